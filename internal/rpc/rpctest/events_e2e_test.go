package rpctest_test

import (
	"strings"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"github.com/digitalocean/go-libvirt/socket/dialers"

	"github.com/virtvboxd/virtvboxd/internal/rpc/rpctest"
)

// TestEventProceduresWithoutDriverEvents: on a driver without events the
// registrations answer "not supported" named after the public API (the
// callback procedures have none of their own), and deregistering what was
// never registered gives libvirt's error.
func TestEventProceduresWithoutDriverEvents(t *testing.T) {
	h := rpctest.NewServer(t)
	l := libvirt.NewWithDialer(dialers.NewLocal(dialers.WithSocket(h.Socket), dialers.WithLocalTimeout(5*time.Second)))
	if err := l.ConnectToURI("vbox:///session"); err != nil {
		t.Fatal(err)
	}
	defer l.Disconnect()
	cases := []struct {
		what string
		call func() error
		want string
	}{
		{"CALLBACK_REGISTER_ANY", func() error { _, err := l.ConnectDomainEventCallbackRegisterAny(0, nil); return err },
			"this function is not supported by the connection driver: virConnectDomainEventRegisterAny"},
		{"REGISTER_ANY", func() error { return l.ConnectDomainEventRegisterAny(1) },
			"this function is not supported by the connection driver: virConnectDomainEventRegisterAny"},
		{"REGISTER", func() error { _, err := l.ConnectDomainEventRegister(); return err },
			"this function is not supported by the connection driver: virConnectDomainEventRegister"},
		{"CALLBACK_DEREGISTER_ANY", func() error { return l.ConnectDomainEventCallbackDeregisterAny(5) },
			"domain event callback 5 not registered"},
		{"DEREGISTER", func() error { _, err := l.ConnectDomainEventDeregister(); return err },
			"domain event 0 not registered"},
	}
	for _, c := range cases {
		if err := c.call(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.what, err, c.want)
		}
	}
}
