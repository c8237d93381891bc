package driver

// ConsoleConn is the part of Conn for screenshots, keys, the serial console and NMIs.
// Methods are added here with an Unsupported fallback below.
type ConsoleConn interface{}
