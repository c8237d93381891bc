package sdnotifytest

import (
	"net"
	"testing"
	"time"
)

func TestReadyClosesOnReady1(t *testing.T) {
	addr, ready := Listen(t)
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("STATUS=starting\nMAINPID=1")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("STATUS=listening\nREADY=1")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("READY=1 sent, channel still open")
	}
}

func TestNotReadyWithoutReady1(t *testing.T) {
	addr, ready := Listen(t)
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("STATUS=READY=1 is not a line\nRELOADING=1")); err != nil {
		t.Fatal(err)
	}
	// A second, distinct socket with READY=1 must not close the first's channel.
	addr2, ready2 := Listen(t)
	c2, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr2, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := c2.Write([]byte("READY=1")); err != nil {
		t.Fatal(err)
	}
	<-ready2
	select {
	case <-ready:
		t.Fatal("ready closed without a READY=1 line")
	default:
	}
}
