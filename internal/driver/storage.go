package driver

// StorageConn is the part of Conn for storage pools and volumes (the media registry).
// Methods are added here with an Unsupported fallback below.
type StorageConn interface{}
