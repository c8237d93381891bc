package e2e

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"github.com/digitalocean/go-libvirt/socket/dialers"
)

// lineSource streams a listener's output lines.
type lineSource struct {
	name  string
	lines chan string
}

func streamLines(name string, r io.Reader) *lineSource {
	ls := &lineSource{name: name, lines: make(chan string, 256)}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if l := strings.TrimSpace(sc.Text()); l != "" {
				ls.lines <- l
			}
		}
		close(ls.lines)
	}()
	return ls
}

// next returns the next line, failing after timeout.
func (ls *lineSource) next(t *testing.T, timeout time.Duration) string {
	t.Helper()
	select {
	case l, ok := <-ls.lines:
		if !ok {
			t.Fatalf("%s ended", ls.name)
		}
		return l
	case <-time.After(timeout):
		t.Fatalf("%s printed nothing within %s", ls.name, timeout)
	}
	return ""
}

// startListener runs a long-lived client whose stdout is streamed; it is
// killed at the end of the test.
func startListener(t *testing.T, name string, cmd *exec.Cmd) (*lineSource, io.WriteCloser) {
	t.Helper()
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LIBVIRT_AUTOSTART=0")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return streamLines(name, out), in
}

// TestEventListeners: the stock clients' event loops see the daemon's
// lifecycle changes and one made with VBoxManage by hand (within 2 s), with
// libvirt's event and detail codes: `virsh -r event --all --loop`
// (read-only), python3-libvirt's default event loop and go-libvirt's
// LifecycleEvents. Deregistration works through each.
func TestEventListeners(t *testing.T) {
	requireTool(t, "virsh")
	py := requirePythonLibvirt(t)
	d := startDaemon(t, withDaemonEnv("VIRTVBOXD_TEST_WATCH_INTERVAL=200ms"))
	const u = "44444444-0000-4000-8000-0000000000e1"
	// With ACPI, so that the guest powers off at `virsh shutdown`.
	xml := d.writeFile(t, "evt.xml", strings.Replace(minimalXML("evt", u), "<os>", "<features><acpi/></features><os>", 1))
	d.mustVirsh(t, "define", xml)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	virsh, _ := startListener(t, "virsh event", exec.CommandContext(ctx, requireTool(t, "virsh"),
		"-r", "-c", d.URI(), "event", "--all", "--loop"))
	// virsh says nothing once registered: define the domain again (which
	// sends DEFINED UPDATED) until it reports it.
	for ready := false; !ready; {
		d.mustVirsh(t, "define", xml)
		select {
		case l := <-virsh.lines:
			if !strings.Contains(l, "Defined Updated") {
				t.Fatalf("virsh event: %q before any change", l)
			}
			ready = true
		case <-time.After(500 * time.Millisecond):
		}
	}
	python, pyIn := startListener(t, "events.py", exec.CommandContext(ctx, py, filepath.Join("testdata", "events.py"), d.URI()))
	if l := python.next(t, 20*time.Second); l != "ready" {
		t.Fatalf("events.py said %q", l)
	}
	gl := libvirt.NewWithDialer(dialers.NewLocal(dialers.WithSocket(d.RW), dialers.WithLocalTimeout(5*time.Second)))
	if err := gl.ConnectToURI("vbox:///session"); err != nil {
		t.Fatal(err)
	}
	defer gl.Disconnect()
	gctx, gcancel := context.WithCancel(ctx)
	goEvents, err := gl.LifecycleEvents(gctx)
	if err != nil {
		t.Fatal(err)
	}
	goNext := func() string {
		select {
		case ev, ok := <-goEvents:
			if !ok {
				t.Fatal("go-libvirt's event channel closed")
			}
			return fmt.Sprintf("lifecycle %s %d %d", ev.Dom.Name, ev.Event, ev.Detail)
		case <-time.After(10 * time.Second):
			t.Fatal("go-libvirt received nothing within 10 s")
		}
		return ""
	}
	// A leftover DEFINED UPDATED of the warm-up may still reach virsh.
	drain := func() {
		for {
			select {
			case l := <-virsh.lines:
				if !strings.Contains(l, "Defined Updated") {
					t.Fatalf("virsh event: unexpected %q", l)
				}
			default:
				return
			}
		}
	}

	type ev struct {
		text          string // virsh's words; "reboot" for the reboot event
		event, detail int
	}
	steps := []struct {
		name string
		do   func()
		want []ev
	}{
		{"start", func() { drain(); d.mustVirsh(t, "start", "evt") }, []ev{{"Started Booted", 2, 0}}},
		{"suspend", func() { d.mustVirsh(t, "suspend", "evt") }, []ev{{"Suspended Paused", 3, 0}}},
		{"resume", func() { d.mustVirsh(t, "resume", "evt") }, []ev{{"Resumed Unpaused", 4, 0}}},
		{"reboot", func() { d.mustVirsh(t, "reboot", "evt") }, []ev{{"reboot", 0, 0}}},
		{"pause by hand", func() { d.Sim.mustVBoxManage(t, "controlvm", "evt", "pause") }, []ev{{"Suspended Paused", 3, 0}}},
		{"resume", func() { d.mustVirsh(t, "resume", "evt") }, []ev{{"Resumed Unpaused", 4, 0}}},
		{"shutdown", func() { d.mustVirsh(t, "shutdown", "evt") }, []ev{{"Shutdown Finished", 6, 0}, {"Stopped Shutdown", 5, 0}}},
	}
	for _, st := range steps {
		t.Logf("step %s", st.name)
		st.do()
		done := time.Now()
		for _, w := range st.want {
			if w.text == "reboot" {
				if l := virsh.next(t, 10*time.Second); l != "event 'reboot' for domain 'evt'" {
					t.Errorf("%s: virsh printed %q", st.name, l)
				}
				if l := python.next(t, 10*time.Second); l != "reboot evt" {
					t.Errorf("%s: python printed %q", st.name, l)
				}
				continue
			}
			if l := virsh.next(t, 10*time.Second); l != "event 'lifecycle' for domain 'evt': "+w.text {
				t.Errorf("%s: virsh printed %q, want %s", st.name, l, w.text)
			}
			if st.name == "pause by hand" {
				if took := time.Since(done); took > 2*time.Second {
					t.Errorf("the change made by hand was seen after %s, want at most 2 s", took)
				}
			}
			want := fmt.Sprintf("lifecycle evt %d %d", w.event, w.detail)
			if l := python.next(t, 10*time.Second); l != want {
				t.Errorf("%s: python printed %q, want %q", st.name, l, want)
			}
			if l := goNext(); l != want {
				t.Errorf("%s: go-libvirt received %q, want %q", st.name, l, want)
			}
		}
	}

	// Deregistration: python3-libvirt and go-libvirt deregister; virsh
	// still sees the next change, they print nothing more.
	io.WriteString(pyIn, "dereg\n")
	if l := python.next(t, 10*time.Second); l != "deregistered" {
		t.Fatalf("events.py said %q", l)
	}
	gcancel()
	for range goEvents {
	}
	d.mustVirsh(t, "start", "evt")
	if l := virsh.next(t, 10*time.Second); l != "event 'lifecycle' for domain 'evt': Started Booted" {
		t.Errorf("after deregistration: virsh printed %q", l)
	}
	d.mustVirsh(t, "destroy", "evt")
	if l := virsh.next(t, 10*time.Second); l != "event 'lifecycle' for domain 'evt': Stopped Destroyed" {
		t.Errorf("destroy: virsh printed %q", l)
	}
	pyIn.Close()
	for l := range python.lines {
		t.Errorf("events.py printed %q after deregistering", l)
	}
	// go-libvirt's own registration calls: a callback ID answers once.
	id, err := gl.ConnectDomainEventCallbackRegisterAny(int32(libvirt.DomainEventIDLifecycle), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := gl.ConnectDomainEventCallbackDeregisterAny(id); err != nil {
		t.Errorf("deregistering callback %d: %v", id, err)
	}
	if err := gl.ConnectDomainEventCallbackDeregisterAny(id); err == nil ||
		!strings.Contains(err.Error(), fmt.Sprintf("domain event callback %d not registered", id)) {
		t.Errorf("deregistering callback %d twice: %v", id, err)
	}
}

// Procedure numbers of the event API (remote_protocol.x).
const (
	procEventRegister            = 105
	procEventDeregister          = 106
	procEventLifecycle           = 107
	procEventRegisterAny         = 167
	procEventDeregisterAny       = 168
	procEventReboot              = 169
	procEventCallbackRegisterAny = 316
	procEventCallbackDeregister  = 317
	procEventCallbackLifecycle   = 318
	procEventCallbackReboot      = 319
)

// rawMsg is one packet from the daemon.
type rawMsg struct {
	proc    int32
	typ     uint32
	serial  uint32
	status  uint32
	payload []byte
}

func (rc *rawClient) readMsg(timeout time.Duration) (rawMsg, error) {
	rc.c.SetReadDeadline(time.Now().Add(timeout))
	var lb [4]byte
	if _, err := io.ReadFull(rc.r, lb[:]); err != nil {
		return rawMsg{}, err
	}
	body := make([]byte, binary.BigEndian.Uint32(lb[:])-4)
	if _, err := io.ReadFull(rc.r, body); err != nil {
		return rawMsg{}, err
	}
	return rawMsg{proc: int32(binary.BigEndian.Uint32(body[8:])), typ: binary.BigEndian.Uint32(body[12:]),
		serial: binary.BigEndian.Uint32(body[16:]), status: binary.BigEndian.Uint32(body[20:]), payload: body[24:]}, nil
}

// call sends a call and returns its reply (events before it are returned
// in events).
func (rc *rawClient) call(t *testing.T, proc int32, payload []byte, events *[]rawMsg) rawMsg {
	t.Helper()
	serial := rc.send(proc, payload)
	for {
		m, err := rc.readMsg(20 * time.Second)
		if err != nil {
			t.Fatalf("proc %d: %v", proc, err)
		}
		if m.typ == 2 { // MESSAGE: an event
			*events = append(*events, m)
			continue
		}
		if m.serial != serial {
			t.Fatalf("proc %d: reply to serial %d, want %d", proc, m.serial, serial)
		}
		return m
	}
}

// eventText decodes an event message: "<callbackID> <domain> <event>/<detail>"
// (callbackID "-" for the legacy messages), or "<callbackID> <domain>
// reboot".
func eventText(m rawMsg) string {
	p := m.payload
	u32 := func() uint32 { v := binary.BigEndian.Uint32(p); p = p[4:]; return v }
	cb := "-"
	if m.proc == procEventCallbackLifecycle || m.proc == procEventCallbackReboot {
		cb = fmt.Sprint(int32(u32()))
	}
	n := int(u32())
	name := string(p[:n])
	p = p[(n+3)/4*4+16+4:] // name, UUID, ID
	if m.proc == procEventReboot || m.proc == procEventCallbackReboot {
		return cb + " " + name + " reboot"
	}
	ev := int32(u32())
	return fmt.Sprintf("%s %s %d/%d", cb, name, ev, int32(u32()))
}

func i32(v ...int32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.BigEndian.AppendUint32(b, uint32(x))
	}
	return b
}

// TestEventProcedures checks the event procedures on the wire: the legacy
// REGISTER (DOMAIN_EVENT_LIFECYCLE messages), REGISTER_ANY (the event ID's
// own message) and CALLBACK_REGISTER_ANY (callback IDs, a domain filter),
// one message per registration, serial 1; deregistration stops each, and
// the errors are libvirt's. A client that registers many callbacks and
// stops reading gets its events dropped beyond the bounded queue, while the
// daemon keeps serving everyone else.
func TestEventProcedures(t *testing.T) {
	d := startDaemon(t)
	const u1, u2 = "44444444-0000-4000-8000-0000000000f1", "44444444-0000-4000-8000-0000000000f2"
	d.mustVirsh(t, "define", d.writeFile(t, "one.xml", minimalXML("one", u1)))
	d.mustVirsh(t, "define", d.writeFile(t, "two.xml", minimalXML("two", u2)))

	rc := dialRaw(t, d.RW)
	rc.open()
	var events []rawMsg
	ok := func(what string, m rawMsg) rawMsg {
		t.Helper()
		if m.status != 0 {
			t.Fatalf("%s failed: %s", what, rawErr(m))
		}
		return m
	}
	ok("REGISTER", rc.call(t, procEventRegister, nil, &events))
	cb1 := ok("CALLBACK_REGISTER_ANY", rc.call(t, procEventCallbackRegisterAny, i32(0, 0), &events))
	cb2 := ok("CALLBACK_REGISTER_ANY", rc.call(t, procEventCallbackRegisterAny, i32(0, 0), &events))
	// A callback for domain "two" alone: remote_domain is name, UUID, ID.
	filter := append(i32(0, 1), xdrString("two")...)
	filter = append(append(filter, uuidBytes(t, u2)...), i32(-1)...)
	ok("CALLBACK_REGISTER_ANY(two)", rc.call(t, procEventCallbackRegisterAny, filter, &events))
	ok("REGISTER_ANY(reboot)", rc.call(t, procEventRegisterAny, i32(1), &events))
	cbReboot := ok("CALLBACK_REGISTER_ANY(reboot)", rc.call(t, procEventCallbackRegisterAny, i32(1, 0), &events))
	ids := []uint32{binary.BigEndian.Uint32(cb1.payload), binary.BigEndian.Uint32(cb2.payload), binary.BigEndian.Uint32(cbReboot.payload)}
	if ids[0] == ids[1] || ids[1] == ids[2] || ids[0] == ids[2] {
		t.Fatalf("callback IDs %v are not distinct", ids)
	}

	// waitEvents reads events until n have come.
	waitEvents := func(n int) []string {
		t.Helper()
		var got []string
		for _, m := range events {
			got = append(got, eventText(m))
		}
		events = nil
		for len(got) < n {
			m, err := rc.readMsg(10 * time.Second)
			if err != nil {
				t.Fatalf("waiting for %d events, got %q: %v", n, got, err)
			}
			if m.typ != 2 || m.serial != 1 || m.status != 0 {
				t.Fatalf("event packet type %d serial %d status %d, want MESSAGE, 1, OK", m.typ, m.serial, m.status)
			}
			got = append(got, eventText(m))
		}
		return got
	}
	d.mustVirsh(t, "start", "one")
	want := []string{"- one 2/0", fmt.Sprintf("%d one 2/0", ids[0]), fmt.Sprintf("%d one 2/0", ids[1])}
	if got := waitEvents(3); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("start one: %q, want %q (the filtered callback left out)", got, want)
	}
	d.mustVirsh(t, "reboot", "one")
	want = []string{"- one reboot", fmt.Sprintf("%d one reboot", ids[2])}
	if got := waitEvents(2); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("reboot one: %q, want %q", got, want)
	}

	// Deregister all but the second callback and the filtered one.
	ok("CALLBACK_DEREGISTER_ANY", rc.call(t, procEventCallbackDeregister, i32(int32(ids[0])), &events))
	ok("DEREGISTER", rc.call(t, procEventDeregister, nil, &events))
	// As libvirt's daemon, DEREGISTER_ANY takes the first registration of
	// the event ID, whichever way it was made: twice removes both.
	ok("DEREGISTER_ANY(reboot)", rc.call(t, procEventDeregisterAny, i32(1), &events))
	ok("DEREGISTER_ANY(reboot) again", rc.call(t, procEventDeregisterAny, i32(1), &events))
	errs := []struct {
		what    string
		proc    int32
		payload []byte
		msg     string
	}{
		{"CALLBACK_DEREGISTER_ANY again", procEventCallbackDeregister, i32(int32(ids[0])), fmt.Sprintf("domain event callback %d not registered", ids[0])},
		{"DEREGISTER_ANY(reboot) once more", procEventDeregisterAny, i32(1), "domain event 1 not registered"},
		{"CALLBACK_REGISTER_ANY(27)", procEventCallbackRegisterAny, i32(27, 0), "unsupported event ID 27"},
		{"REGISTER_ANY(16)", procEventRegisterAny, i32(16), "unsupported event ID 16"},
	}
	for _, e := range errs {
		m := rc.call(t, e.proc, e.payload, &events)
		if m.status != 1 || !strings.Contains(rawErr(m), e.msg) {
			t.Errorf("%s: status %d %q, want the error %q", e.what, m.status, rawErr(m), e.msg)
		}
	}
	d.mustVirsh(t, "destroy", "one")
	d.mustVirsh(t, "start", "two")
	want = []string{fmt.Sprintf("%d one 5/1", ids[1]), fmt.Sprintf("%d two 2/0", ids[1]), "4 two 2/0"}
	if got := waitEvents(3); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("after deregistration: %q, want %q", got, want)
	}
	d.mustVirsh(t, "destroy", "two")

	// A client that does not read: 1500 callbacks, then many events.
	stuck := dialRaw(t, d.RW)
	stuck.open()
	var ignored []rawMsg
	for i := 0; i < 1500; i++ {
		if m := stuck.call(t, procEventCallbackRegisterAny, i32(0, 0), &ignored); m.status != 0 {
			t.Fatalf("registration %d: %s", i, rawErr(m))
		}
	}
	const rounds = 4
	for i := 0; i < rounds; i++ {
		d.mustVirsh(t, "start", "one")
		d.mustVirsh(t, "destroy", "one")
	}
	if !strings.Contains(d.logText(t), "dropping events: the client does not read them") {
		t.Error("the daemon did not report dropping the stuck client's events")
	}
	if m := rc.call(t, procGetType, nil, &events); m.status != 0 {
		t.Errorf("another client while one does not read: %s", rawErr(m))
	}
	// The stuck client finally reads: it gets at most the queue's worth
	// plus what the socket buffered, not every event.
	n := 0
	for {
		if _, err := stuck.readMsg(500 * time.Millisecond); err != nil {
			break
		}
		n++
	}
	if total := 1500 * 2 * rounds; n >= total {
		t.Errorf("the stuck client received all %d events: nothing was dropped", n)
	} else {
		t.Logf("the stuck client received %d of %d events", n, total)
	}
}

func rawErr(m rawMsg) string {
	p := m.payload
	if m.status != 1 || len(p) < 16 || binary.BigEndian.Uint32(p[8:]) == 0 {
		return ""
	}
	l := binary.BigEndian.Uint32(p[12:])
	if int(l) > len(p)-16 {
		return ""
	}
	return string(p[16 : 16+l])
}

func uuidBytes(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != 16 {
		t.Fatalf("uuid %q: %v", s, err)
	}
	return b
}
