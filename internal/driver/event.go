package driver

// EventConn is the part of Conn for domain event subscriptions.
// Methods are added here with an Unsupported fallback below.
type EventConn interface{}
