package driver

// SnapshotConn is the part of Conn for snapshots and the domain's title, description, metadata and name.
// Methods are added here with an Unsupported fallback below.
type SnapshotConn interface{}
