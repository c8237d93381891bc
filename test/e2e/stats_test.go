package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// eventually retries check until it passes or 15 s have gone by: the
// values checked move with the simulated guests' time.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		<-tick.C
	}
}

// field returns the number after "name" in virsh's "name value" or
// "name=value" output, -1 when absent.
func field(out, name string) int64 {
	m := regexp.MustCompile(`(?m)(?:^|\s)` + regexp.QuoteMeta(name) + `[ =]+(\d+)`).FindStringSubmatch(out)
	if m == nil {
		return -1
	}
	var v int64
	fmt.Sscan(m[1], &v)
	return v
}

// TestStats drives virsh's statistics, guest and capability commands,
// prometheus-libvirt-exporter and Ansible's libvirt inventory against one
// daemon whose simulated guests run (one with Guest Additions, one without).
func TestStats(t *testing.T) {
	d := startDaemon(t, withDaemonEnv("VIRTVBOXD_TEST_STATS_MAX_AGE=100ms"))
	d.Sim.Seed(t, 4, 2)
	var running []string
	for _, l := range strings.Split(strings.TrimSpace(d.Sim.mustVBoxManage(t, "list", "runningvms")), "\n") {
		running = append(running, l[1:strings.LastIndex(l, `" {`)])
	}
	if len(running) < 2 {
		t.Fatalf("running: %q", running)
	}
	ga, bare := running[0], running[1]
	d.Sim.mustVBoxManage(t, "setextradata", ga, "vboxsim/GuestAdditions", "7.0.14 r161095")
	d.Sim.mustVBoxManage(t, "guestproperty", "set", ga, "/VirtualBox/GuestInfo/OS/Hostname", ga+".example")

	t.Run("virsh", func(t *testing.T) {
		var first string
		eventually(t, "domstats with every group", func() error {
			first = d.mustVirsh(t, "domstats", ga)
			for _, k := range []string{"state.state", "cpu.time", "balloon.current", "balloon.rss", "vcpu.0.time", "net.0.rx.bytes", "block.0.rd.bytes"} {
				if field(first, k) < 0 {
					return fmt.Errorf("%s missing:\n%s", k, first)
				}
			}
			return nil
		})
		eventually(t, "domstats moves", func() error {
			again := d.mustVirsh(t, "domstats", ga)
			for _, k := range []string{"cpu.time", "net.0.rx.bytes", "block.0.rd.bytes"} {
				if field(again, k) <= field(first, k) {
					return fmt.Errorf("%s did not grow: %d then %d", k, field(first, k), field(again, k))
				}
			}
			return nil
		})
		all := d.mustVirsh(t, "domstats", "--state", "--cpu-total")
		contains(t, "domstats of all domains", all, "Domain: '"+ga+"'", "Domain: '"+bare+"'", "state.state=5")
		if info := d.mustVirsh(t, "dominfo", ga); !regexp.MustCompile(`CPU time:\s+[0-9.]+s`).MatchString(info) {
			t.Errorf("dominfo CPU time:\n%s", info)
		}
		blk := d.mustVirsh(t, "domblklist", ga)
		dev := strings.Fields(strings.Split(strings.TrimSpace(blk), "\n")[2])[0]
		a := field(d.mustVirsh(t, "domblkstat", ga, dev), "rd_bytes")
		eventually(t, "domblkstat moves", func() error {
			if b := field(d.mustVirsh(t, "domblkstat", ga, dev), "rd_bytes"); b <= a || a < 0 {
				return fmt.Errorf("rd_bytes %d then %d", a, b)
			}
			return nil
		})
		a = field(d.mustVirsh(t, "domifstat", ga, "vboxnic1"), "rx_bytes")
		eventually(t, "domifstat moves", func() error {
			if b := field(d.mustVirsh(t, "domifstat", ga, "vboxnic1"), "rx_bytes"); b <= a || a < 0 {
				return fmt.Errorf("rx_bytes %d then %d", a, b)
			}
			return nil
		})
		eventually(t, "dommemstat", func() error {
			mem := d.mustVirsh(t, "dommemstat", ga)
			for _, k := range []string{"actual", "rss", "available", "unused"} {
				if field(mem, k) <= 0 {
					return fmt.Errorf("%s missing:\n%s", k, mem)
				}
			}
			return nil
		})
		contains(t, "domifaddr", d.mustVirsh(t, "domifaddr", ga, "--source", "agent"), "10.0.2.15/24")
		contains(t, "domhostname", d.mustVirsh(t, "domhostname", ga), ga+".example")
		contains(t, "no Guest Additions", d.virshFails(t, "domifaddr", bare, "--source", "agent"), "Guest agent is not responding")
		contains(t, "arp", d.virshFails(t, "domifaddr", ga, "--source", "arp"), "source arp is not supported")
		contains(t, "guestinfo", d.mustVirsh(t, "guestinfo", ga), "os.name", "Linux", "hostname", "if.0.addr.0.addr")
		caps := d.mustVirsh(t, "domcapabilities")
		contains(t, "domcapabilities", caps, "<domain>vbox</domain>", "<value>efi</value>", "<value>sata</value>",
			"<value>virtio</value>", "<value>rdp</value>", "<value>vmvga</value>", "<value>usb</value>")
	})

	t.Run("prometheus-libvirt-exporter", func(t *testing.T) {
		exporter := requireTool(t, "prometheus-libvirt-exporter")
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		cmd := exec.Command(exporter, "--web.listen-address="+addr, "--libvirt.uri="+d.URI())
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		var body string
		eventually(t, "exporter metrics", func() error {
			resp, err := http.Get("http://" + addr + "/metrics")
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			body = string(b)
			if !strings.Contains(body, "\nlibvirt_up 1") {
				return fmt.Errorf("libvirt_up is not 1:\n%s", grepLines(body, "libvirt_up"))
			}
			return nil
		})
		for _, series := range []string{"libvirt_domain_info_cpu_time_seconds_total", "libvirt_domain_info_memory_usage_bytes",
			"libvirt_domain_block_stats_read_bytes_total", "libvirt_domain_interface_stats_receive_bytes_total"} {
			if !regexp.MustCompile(`(?m)^` + series + `\{[^}]*domain="` + regexp.QuoteMeta(ga) + `"`).MatchString(body) {
				t.Errorf("no %s series for %s:\n%s", series, ga, grepLines(body, "libvirt_domain"))
			}
		}
	})

	t.Run("ansible inventory", func(t *testing.T) {
		inv := requireTool(t, "ansible-inventory")
		dir := t.TempDir()
		file := filepath.Join(dir, "inventory.libvirt.yml")
		if err := os.WriteFile(file, []byte("plugin: community.libvirt.libvirt\nuri: "+d.URI()+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(inv, "-i", file, "--list")
		cmd.Env = append(os.Environ(), "HOME="+dir, "ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, "tmp"), "ANSIBLE_INVENTORY_ENABLED=community.libvirt.libvirt")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("ansible-inventory: %v\n%s", err, out)
		}
		var list struct {
			Meta struct {
				Hostvars map[string]struct {
					// an "error" string for a guest without Guest Additions
					Addresses map[string]json.RawMessage `json:"interface_addresses"`
				} `json:"hostvars"`
			} `json:"_meta"`
		}
		if err := json.Unmarshal(out, &list); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		h, ok := list.Meta.Hostvars[ga]
		if !ok || len(list.Meta.Hostvars) != 4 {
			t.Fatalf("hosts: %s", out)
		}
		var addrs []string
		for _, raw := range h.Addresses {
			var i struct {
				Addrs []struct{ Addr string } `json:"addrs"`
			}
			if err := json.Unmarshal(raw, &i); err != nil {
				t.Fatalf("%s interface: %v: %s", ga, err, raw)
			}
			for _, a := range i.Addrs {
				addrs = append(addrs, a.Addr)
			}
		}
		if !strings.Contains(strings.Join(addrs, " "), "10.0.2.15") {
			t.Errorf("%s addresses %q:\n%s", ga, addrs, out)
		}
		if !strings.Contains(string(list.Meta.Hostvars[bare].Addresses["error"]), "Guest agent is not responding") {
			t.Errorf("%s without Guest Additions: %s", bare, list.Meta.Hostvars[bare].Addresses)
		}
	})
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
