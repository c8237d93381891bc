package vbox

// HonoursNoWait implements driver.NoWaitReader: the reads (lookups, listings,
// domain XML, info and state) are answered from the inventory when it holds
// the answer, and return driver.ErrWouldBlock where they would refresh it,
// re-read a machine or wait for another caller's read (see Inventory);
// runPolicy refuses to start VBoxManage under driver.NoWait as a last guard.
func (c *conn) HonoursNoWait() bool { return true }
