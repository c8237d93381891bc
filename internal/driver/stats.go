package driver

// StatsConn is the part of Conn for statistics, guest addresses and information, domain capabilities.
// Methods are added here with an Unsupported fallback below.
type StatsConn interface{}
