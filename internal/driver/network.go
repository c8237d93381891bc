package driver

// NetworkConn is the part of Conn for virtual networks (host-only interfaces, NAT networks).
// Methods are added here with an Unsupported fallback below.
type NetworkConn interface{}
