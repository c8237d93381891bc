package driver

// DeviceConn is the part of Conn for device attach/detach/update, media changes and the device listings.
// Methods are added here with an Unsupported fallback below.
type DeviceConn interface{}
