package vboxsim

import (
	"fmt"
	"strings"
)

// HRESULT names and values printed in "Details: code NAME (0x...)".
var hresults = map[string]uint32{
	"VBOX_E_OBJECT_NOT_FOUND":     0x80bb0001,
	"VBOX_E_INVALID_VM_STATE":     0x80bb0002,
	"VBOX_E_VM_ERROR":             0x80bb0003,
	"VBOX_E_FILE_ERROR":           0x80bb0004,
	"VBOX_E_IPRT_ERROR":           0x80bb0005,
	"VBOX_E_INVALID_OBJECT_STATE": 0x80bb0007,
	"VBOX_E_NOT_SUPPORTED":        0x80bb0009,
	"VBOX_E_OBJECT_IN_USE":        0x80bb000c,
	"E_ACCESSDENIED":              0x80070005,
	"E_FAIL":                      0x80004005,
	"NS_ERROR_FAILURE":            0x80004005,
	"NS_ERROR_INVALID_ARG":        0x80070057,
	"E_INVALIDARG":                0x80070057,
}

// apiError is a COM failure as VBoxManage reports it: the message, then the
// Details and Context lines.
type apiError struct {
	Msg       string
	Code      string // HRESULT name
	Component string // VirtualBoxWrap, MachineWrap, SessionMachine, ConsoleWrap, MediumWrap...
	Interface string // IVirtualBox, IMachine, IConsole, IMedium...
	Context   string // the C++ call text
	Line      int
	File      string // VBoxManageInfo.cpp...
}

func (e apiError) format() string {
	var b strings.Builder
	if e.Msg != "" {
		for _, l := range strings.Split(e.Msg, "\n") {
			fmt.Fprintf(&b, "VBoxManage: error: %s\n", l)
		}
	}
	fmt.Fprintf(&b, "VBoxManage: error: Details: code %s (0x%08x), component %s, interface %s, callee nsISupports\n",
		e.Code, hresults[e.Code], e.Component, e.Interface)
	fmt.Fprintf(&b, "VBoxManage: error: Context: \"%s\" at line %d of file %s\n", e.Context, e.Line, e.File)
	return b.String()
}

// usage holds a command's brief (7.x "Usage - <brief>:") and synopsis lines.
type usage struct {
	brief    string
	synopsis []string
}

var usages = map[string]usage{
	"list": {"List system information and configuration", []string{
		"VBoxManage list [--long] [--sorted] [ bridgedifs | dhcpservers | dvds | extpacks | groups | hddbackends | hdds | hostcpuids | hostdrives | hostdvds | hostfloppies | hostinfo | hostonlyifs | hostonlynets | intnets | natnets | ostypes | runningvms | screenshotformats | systemproperties | usbfilters | usbhost | vms | webcams ]"}},
	"showvminfo": {"Show configuration information or log file contents for a virtual machine", []string{
		"VBoxManage showvminfo <uuid | vmname> [--details] [--machinereadable] [--password-id id] [--password file|-]",
		"VBoxManage showvminfo <uuid | vmname> <--log=index> [--password-id id] [--password file|-]"}},
	"createvm": {"Create a new virtual machine", []string{
		"VBoxManage createvm <--name=name> [--basefolder=basefolder] [--default] [--groups=group-ID[,...]] [--ostype=ostype] [--register] [--uuid=uuid] [--cipher cipher] [--password-id password-id] [--password file]"}},
	"modifyvm": {"Change settings for a virtual machine that is stopped", []string{
		"VBoxManage modifyvm <uuid | vmname> [--name=name] [--groups=group [,group...]] [--description=description] [--os-type=OS-type] [--icon-file=filename] [--memory=size-in-MB] [--page-fusion=on | off] [--vram=size-in-MB] [--acpi=on | off] [--ioapic=on | off] [--hardware-uuid=UUID] [--cpus=CPU-count] ..."}},
	"startvm": {"Start a virtual machine", []string{
		"VBoxManage startvm <uuid | vmname...> [--putenv=name[=value]] [--type= [gui | headless | sdl | separate] ] --password file --password-id password identifier"}},
	"controlvm": {"Change state and settings for a running virtual machine", []string{
		"VBoxManage controlvm <uuid | vmname> pause",
		"VBoxManage controlvm <uuid | vmname> resume",
		"VBoxManage controlvm <uuid | vmname> reset",
		"VBoxManage controlvm <uuid | vmname> poweroff",
		"VBoxManage controlvm <uuid | vmname> savestate",
		"VBoxManage controlvm <uuid | vmname> acpipowerbutton",
		"VBoxManage controlvm <uuid | vmname> acpisleepbutton",
		"VBoxManage controlvm <uuid | vmname> keyboardputscancode <hex> [hex...]",
		"VBoxManage controlvm <uuid | vmname> setlinkstateN on | off",
		"VBoxManage controlvm <uuid | vmname> nicN null | nat | bridged | intnet | hostonly | generic | natnetwork [device-name]",
		"VBoxManage controlvm <uuid | vmname> screenshotpng filename [display]"}},
	"discardstate": {"Discard the saved state of a virtual machine", []string{"VBoxManage discardstate <uuid | vmname>"}},
	"unregistervm": {"Unregister a virtual machine", []string{"VBoxManage unregistervm <uuid | vmname> [--delete] [--delete-all]"}},
	"storagectl": {"Manage a storage controller", []string{
		"VBoxManage storagectl <uuid | vmname> --name=controller-name [--add= floppy | ide | pcie | sas | sata | scsi | usb | virtio ] [--controller= BusLogic | I82078 | ICH6 | IntelAhci | LSILogic | LSILogicSAS | NVMe | PIIX3 | PIIX4 | USB | VirtIO ] [--bootable= on | off ] [--hostiocache= on | off ] [--portcount=count] [--remove] [--rename=new-controller-name]"}},
	"storageattach": {"Attach, remove, and modify storage media used by a virtual machine", []string{
		"VBoxManage storageattach <uuid | vmname> --storagectl=name [--device=number] [--discard= on | off ] [--port=number] [--hotpluggable= on | off ] [--medium= none | emptydrive | additions | uuid | filename | host:drive ] [--mtype= normal | writethrough | immutable | shareable | readonly | multiattach ] [--nonrotational= on | off ] [--type= dvddrive | fdd | hdd ]"}},
	"createmedium": {"Create a new medium", []string{
		"VBoxManage createmedium [ disk | dvd | floppy ] <--filename=filename> [ --size=megabytes | --sizebyte=bytes ] [--diffparent= UUID | filename ] [--format= VDI | VMDK | VHD ] [--variant Standard | Fixed | Split2G | Stream | ESX | Formatted | RawDisk ]"}},
	"closemedium": {"Remove a hard disk, DVD, or floppy image from the media registry", []string{
		"VBoxManage closemedium [ disk | dvd | floppy ] <uuid | filename> [--delete]"}},
	"showmediuminfo": {"Show medium information", []string{"VBoxManage showmediuminfo [ disk | dvd | floppy ] <uuid | filename>"}},
	"modifymedium": {"Change the characteristics of an existing medium", []string{
		"VBoxManage modifymedium [ disk | dvd | floppy ] <uuid | filename> [--type= normal | writethrough | immutable | shareable | readonly | multiattach ] [--autoreset= on | off ] [--property=name=[value]] [--compact] [ --resize=megabytes | --resizebyte=bytes ] [--move=pathname] [--setlocation=pathname] [--description=description]"}},
	"clonemedium": {"Create a clone of a medium", []string{
		"VBoxManage clonemedium [ disk | dvd | floppy ] <uuid | source-medium> <uuid | target-medium> [--format= VDI | VMDK | VHD | RAW | other ] [--variant=Standard, Fixed, Split2G, Stream, ESX ] [--existing]"}},
	"snapshot": {"Manage virtual machine snapshots", []string{
		"VBoxManage snapshot <uuid | vmname>",
		"VBoxManage snapshot <uuid | vmname> take <snapshot-name> [--description=description] [--live] [--uniquename Number,Timestamp,Space,Force]",
		"VBoxManage snapshot <uuid | vmname> delete <snapshot-name>",
		"VBoxManage snapshot <uuid | vmname> restore <snapshot-name>",
		"VBoxManage snapshot <uuid | vmname> restorecurrent",
		"VBoxManage snapshot <uuid | vmname> edit < snapshot-name | --current > [--description=description] [--name=new-name]",
		"VBoxManage snapshot <uuid | vmname> list [[--details] | [--machinereadable]]",
		"VBoxManage snapshot <uuid | vmname> showvminfo <snapshot-name>"}},
	"clonevm": {"Create a clone of an existing virtual machine", []string{
		"VBoxManage clonevm <vmname | uuid> [--basefolder=basefolder] [--groups=group,...] [--mode= machine | machineandchildren | all ] [--name=name] [--options=option,...] [--register] [--snapshot=snapshot-name] [--uuid=uuid]"}},
	"hostonlyif": {"Manage host-only network interfaces", []string{
		"VBoxManage hostonlyif ipconfig <ifname> [--dhcp | --ip=IPv4-address [--netmask=IPv4-netmask] | --ipv6=IPv6-address [--netmasklengthv6=length]]",
		"VBoxManage hostonlyif create",
		"VBoxManage hostonlyif remove <ifname>"}},
	"natnetwork": {"Create or modify NAT network settings", []string{
		"VBoxManage natnetwork add [--disable | --enable] <--netname=name> <--network=network> [--dhcp=on|off] [--ipv6=on|off] [--loopback-4=rule] [--loopback-6=rule] [--port-forward-4=rule] [--port-forward-6=rule]",
		"VBoxManage natnetwork remove <--netname=name>",
		"VBoxManage natnetwork list [filter-pattern]"}},
	"dhcpserver": {"Manage DHCP servers", []string{
		"VBoxManage dhcpserver add < --network=netname | --interface=ifname > --server-ip=address --netmask=mask --lower-ip=address --upper-ip=address < --enable | --disable > [[--global] [--set-opt=dhcp-opt-no value...]] [[--mac-address=address] [--fixed-address=address]]",
		"VBoxManage dhcpserver modify < --network=netname | --interface=ifname > [--server-ip=address] [--lower-ip=address] [--upper-ip=address] [--netmask=mask] [--enable | --disable] [[--global] [--set-opt=dhcp-opt-no value...]] [[--mac-address=address] [--fixed-address=address] [--remove-config]]",
		"VBoxManage dhcpserver remove < --network=netname | --interface=ifname >",
		"VBoxManage dhcpserver start < --network=netname | --interface=ifname >",
		"VBoxManage dhcpserver restart < --network=netname | --interface=ifname >",
		"VBoxManage dhcpserver stop < --network=netname | --interface=ifname >",
		"VBoxManage dhcpserver findlease < --network=netname | --interface=ifname > <--mac-address=mac>"}},
	"setextradata": {"Set a keyword value that is associated with a virtual machine or configuration", []string{
		"VBoxManage setextradata < global | uuid | vmname > <keyword> [value]"}},
	"getextradata": {"View keyword values that are associated with a virtual machine or configuration", []string{
		"VBoxManage getextradata < global | uuid | vmname > < keyword | enumerate >"}},
	"registervm": {"Register a virtual machine", []string{"VBoxManage registervm <filename> [--password file]"}},
	"guestproperty": {"Manage virtual machine guest properties", []string{
		"VBoxManage guestproperty get <uuid | vmname> <property-name> [--verbose]",
		"VBoxManage guestproperty enumerate <uuid | vmname> [--no-timestamp] [--no-flags] [--relative] [--old-format] [patterns...]",
		"VBoxManage guestproperty set <uuid | vmname> <property-name> [property-value [--flags=flags]]",
		"VBoxManage guestproperty unset <uuid | vmname> <property-name>"}},
	"metrics": {"Monitor system resource usage", []string{
		"VBoxManage metrics setup [--periodseconds] [--samplescount] [--list] [* | host | vmname [metric-list]]",
		"VBoxManage metrics query [* | host | vmname [metric-list]]"}},
	"usbfilter": {"Manage USB filters", []string{
		"VBoxManage usbfilter add <index,0-N> <--target= uuid | vmname | global > <--name=string> <--action=ignore | hold> [--active=yes | no] [--vendorid=XXXX] [--productid=XXXX] [--revision=IIFF] [--manufacturer=string] [--product=string] [--port=hex] [--remote=yes | no] [--serialnumber=string] [--maskedinterfaces=XXXXXXXX]",
		"VBoxManage usbfilter modify <index,0-N> <--target= uuid | vmname | global > [--name=string] [--action=ignore | hold] [--active=yes | no] [--vendorid=XXXX | \"\"] [--productid=XXXX | \"\"] [--revision=IIFF | \"\"] [--manufacturer=string | \"\"] [--product=string | \"\"] [--port=hex] [--remote=yes | no] [--serialnumber=string | \"\"] [--maskedinterfaces=XXXXXXXX]",
		"VBoxManage usbfilter remove <index,0-N> <--target= uuid | vmname | global >"}},
	"debugvm": {"Introspection and guest debugging", []string{
		"VBoxManage debugvm <uuid | vmname> injectnmi",
		"VBoxManage debugvm <uuid | vmname> statistics [--reset] [--descriptions] [--pattern=pattern]"}},
	"sharedfolder": {"Add and remove shared folders", []string{
		"VBoxManage sharedfolder add < uuid | vmname > <--name=name> <--hostpath=hostpath> [--readonly] [--transient] [--automount] [--auto-mount-point=path]",
		"VBoxManage sharedfolder remove < uuid | vmname > <--name=name> [--transient]"}},
}

// usages61 are the 6.1 synopses of the classic commands (6.1 spellings, the
// old layout with the options aligned under the first one).
var usages61 = map[string][]string{
	"list": {"VBoxManage list [--long|-l] [--sorted|-s] vms|runningvms|ostypes|hostdvds|hostfloppies|",
		"                            intnets|bridgedifs|hostonlyifs|natnets|dhcpservers|",
		"                            hostinfo|hostcpuids|hddbackends|hdds|dvds|floppies|",
		"                            usbhost|usbfilters|systemproperties|extpacks|",
		"                            groups|webcams|screenshotformats|cloudproviders|",
		"                            cloudprofiles|cloudnets"},
	"showvminfo": {"VBoxManage showvminfo      <uuid|vmname> [--details]",
		"                            [--machinereadable]",
		"VBoxManage showvminfo      <uuid|vmname> --log <idx>"},
	"createvm": {"VBoxManage createvm        --name <name>",
		"                            [--groups <group>, ...]",
		"                            [--ostype <ostype>]",
		"                            [--register]",
		"                            [--basefolder <path>]",
		"                            [--default]",
		"                            [--uuid <uuid>]"},
	"modifyvm": {"VBoxManage modifyvm         <uuid|vmname>",
		"                            [--name <name>]",
		"                            [--groups <group>, ...]",
		"                            [--description <desc>]",
		"                            [--ostype <ostype>]",
		"                            [--iconfile <filename>]",
		"                            [--memory <memorysize in MB>]",
		"                            [--pagefusion on|off]",
		"                            [--vram <vramsize in MB>]",
		"                            [--acpi on|off]",
		"                            [--ioapic on|off]",
		"                            [--hpet on|off]",
		"                            [--triplefaultreset on|off]",
		"                            [--apic on|off]",
		"                            [--x2apic on|off]",
		"                            [--paravirtprovider none|default|legacy|minimal|",
		"                                                hyperv|kvm]",
		"                            [--paravirtdebug <key=value> [,<key=value> ...]]",
		"                            [--hwvirtex on|off]",
		"                            [--nestedpaging on|off]",
		"                            [--largepages on|off]",
		"                            [--vtxvpid on|off]",
		"                            [--vtxux on|off]",
		"                            [--pae on|off]",
		"                            [--longmode on|off]",
		"                            [--cpus <number>]",
		"                            [--cpuhotplug on|off]",
		"                            [--cpuexecutioncap <1-100>]",
		"                            [--firmware bios|efi|efi32|efi64]",
		"                            [--chipset ich9|piix3]",
		"                            [--boot<1-4> none|floppy|dvd|disk|net>]",
		"                            [--nic<1-N> none|null|nat|bridged|intnet|hostonly|",
		"                                        generic|natnetwork]",
		"                            [--nictype<1-N> Am79C970A|Am79C973|Am79C960|",
		"                                            82540EM|82543GC|82545EM|",
		"                                            virtio]",
		"                            [--cableconnected<1-N> on|off]",
		"                            [--macaddress<1-N> auto|<mac>]",
		"                            [--audio none|null|oss|alsa|pulse]",
		"                            [--usb on|off]",
		"                            [--usbehci on|off]",
		"                            [--usbxhci on|off]",
		"                            [--vrde on|off]",
		"                            [--vrdeport <hostport>]",
		"                            [--autostart-enabled on|off]",
		"                            [--autostart-delay <seconds>]"},
	"startvm": {"VBoxManage startvm         <uuid|vmname>...",
		"                            [--type gui|sdl|headless|separate]",
		"                            [-E|--putenv <NAME>[=<VALUE>]]"},
	"controlvm": {"VBoxManage controlvm       <uuid|vmname>",
		"                            pause|resume|reset|poweroff|savestate|",
		"                            acpipowerbutton|acpisleepbutton|",
		"                            keyboardputscancode <hex> [<hex> ...]|",
		"                            setlinkstate<1-N> on|off |",
		"                            nic<1-N> null|nat|bridged|intnet|hostonly|generic|",
		"                                     natnetwork [<devicename>] |",
		"                            natpf<1-N> [<rulename>],tcp|udp,[<hostip>],",
		"                                        <hostport>,[<guestip>],<guestport> |",
		"                            screenshotpng <file> [display] |",
		"                            vrde on|off |",
		"                            vrdeport <port>"},
	"unregistervm": {"VBoxManage unregistervm    <uuid|vmname> [--delete]"},
	"discardstate": {"VBoxManage discardstate    <uuid|vmname>"},
	"storagectl": {"VBoxManage storagectl      <uuid|vmname>",
		"                            --name <name>",
		"                            [--add ide|sata|scsi|floppy|sas|usb|pcie]",
		"                            [--controller LSILogic|LSILogicSAS|BusLogic|",
		"                                          IntelAHCI|PIIX3|PIIX4|ICH6|I82078|",
		"                            [             USB|NVMe|VirtIO]",
		"                            [--portcount <1-n>]",
		"                            [--hostiocache on|off]",
		"                            [--bootable on|off]",
		"                            [--rename <name>]",
		"                            [--remove]"},
	"storageattach": {"VBoxManage storageattach   <uuid|vmname>",
		"                            --storagectl <name>",
		"                            [--port <number>]",
		"                            [--device <number>]",
		"                            [--type dvddrive|hdd|fdd]",
		"                            [--medium none|emptydrive|additions|",
		"                                      <uuid|filename>|host:<drive>|iscsi]",
		"                            [--mtype normal|writethrough|immutable|shareable|",
		"                                     readonly|multiattach]",
		"                            [--nonrotational on|off]",
		"                            [--discard on|off]",
		"                            [--hotpluggable on|off]"},
	"createmedium": {"VBoxManage createmedium    [disk|dvd|floppy] --filename <filename>",
		"                            [--size <megabytes>|--sizebyte <bytes>]",
		"                            [--diffparent <uuid>|<filename>]",
		"                            [--format VDI|VMDK|VHD] (default: VDI)]",
		"                            [--variant Standard,Fixed,Split2G,Stream,ESX,",
		"                                       Formatted]"},
	"closemedium": {"VBoxManage closemedium     [disk|dvd|floppy] <uuid|filename>",
		"                            [--delete]"},
	"showmediuminfo": {"VBoxManage showmediuminfo  [disk|dvd|floppy] <uuid|filename>"},
	"modifymedium": {"VBoxManage modifymedium    [disk|dvd|floppy] <uuid|filename>",
		"                            [--type normal|writethrough|immutable|shareable|",
		"                                    readonly|multiattach]",
		"                            [--autoreset on|off]",
		"                            [--property <name=[value]>]",
		"                            [--compact]",
		"                            [--resize <megabytes>|--resizebyte <bytes>]",
		"                            [--move <path>]",
		"                            [--setlocation <path>]",
		"                            [--description <description>]"},
	"clonemedium": {"VBoxManage clonemedium     [disk|dvd|floppy] <uuid|inputfile> <uuid|outputfile>",
		"                            [--format VDI|VMDK|VHD|RAW|<other>]",
		"                            [--variant Standard,Fixed,Split2G,Stream,ESX]",
		"                            [--existing]"},
	"hostonlyif": {"VBoxManage hostonlyif     ipconfig <name>",
		"                            [--dhcp |",
		"                            --ip<ipv4> [--netmask<ipv4> (def: 255.255.255.0)] |",
		"                            --ipv6<ipv6> [--netmasklengthv6<length> (def: 64)]]",
		"                            create |",
		"                            remove <name>"},
	"natnetwork": {"VBoxManage natnetwork      add --netname <name>",
		"                            --network <network>",
		"                            [--enable|--disable]",
		"                            [--dhcp on|off]",
		"                            [--port-forward-4 <rule>]",
		"                            [--loopback-4 <rule>]",
		"                            [--ipv6 on|off]",
		"VBoxManage natnetwork      remove --netname <name>",
		"VBoxManage natnetwork      list [<pattern>]"},
	"setextradata": {"VBoxManage setextradata    global|<uuid|vmname>",
		"                            <key>",
		"                            [<value>] (no value deletes key)"},
	"getextradata": {"VBoxManage getextradata    global|<uuid|vmname>",
		"                            <key>|[enumerate]"},
	"registervm": {"VBoxManage registervm      <filename>"},
	"guestproperty": {"VBoxManage guestproperty    get <uuid|vmname>",
		"                            <property> [--verbose]",
		"",
		"VBoxManage guestproperty    set <uuid|vmname>",
		"                            <property> [<value> [--flags <flags>]]",
		"",
		"VBoxManage guestproperty    delete|unset <uuid|vmname>",
		"                            <property>",
		"",
		"VBoxManage guestproperty    enumerate <uuid|vmname>",
		"                            [--patterns <patterns>]",
		"",
		"VBoxManage guestproperty    wait <uuid|vmname> <patterns>",
		"                            [--timeout <msec>] [--fail-on-timeout]"},
	"sharedfolder": {"VBoxManage sharedfolder     add <uuid|vmname>",
		"                            --name <name> --hostpath <hostpath>",
		"                            [--transient] [--readonly] [--automount]",
		"VBoxManage sharedfolder     remove <uuid|vmname>",
		"                            --name <name> [--transient]"},
}

// classic61 lists the commands that 6.1 still handled with the old usage
// printer (logo + "Usage:" + synopsis + "Syntax error: ...").
var classic61 = map[string]bool{
	"list": true, "showvminfo": true, "createvm": true, "modifyvm": true, "startvm": true, "controlvm": true,
	"storagectl": true, "storageattach": true, "createmedium": true, "closemedium": true, "showmediuminfo": true,
	"unregistervm": true, "hostonlyif": true, "natnetwork": true, "discardstate": true, "setextradata": true,
	"getextradata": true, "sharedfolder": true, "registervm": true, "guestproperty": true,
	"modifymedium": true, "clonemedium": true,
}

func (s *Sim) usageText(cmd string) string {
	u, ok := usages[cmd]
	if !ok {
		return ""
	}
	var b strings.Builder
	if s.p.Is61() && classic61[cmd] {
		b.WriteString("Usage:\n\n")
		for _, l := range usages61[cmd] {
			b.WriteString(l + "\n")
		}
		b.WriteString("\n")
		return b.String()
	}
	fmt.Fprintf(&b, "Usage - %s:\n\n", u.brief)
	for _, l := range u.synopsis {
		b.WriteString("  " + l + "\n\n")
	}
	return b.String()
}

// syntaxError prints a syntax error in the personality's format and returns
// the exit code (2 unless the command is one of the exit-1 exceptions).
func (s *Sim) syntaxError(cmd, msg string, code int) int {
	if s.p.Is61() && classic61[cmd] {
		fmt.Fprint(s.stderr, s.p.Logo())
		fmt.Fprint(s.stderr, s.usageText(cmd)) // ends with a blank line
		fmt.Fprintf(s.stderr, "Syntax error: %s\n", msg)
		return code
	}
	fmt.Fprintf(s.stderr, "VBoxManage: error: %s\n", msg)
	if u := s.usageText(cmd); u != "" {
		fmt.Fprintf(s.stderr, "\n%s", u)
	}
	return code
}

// getoptError prints an option-parser failure ("Unknown option: --x",
// "Invalid parameter 'x'", "Missing the 1st value for option --x").
func (s *Sim) getoptError(cmd, msg string, code int) int {
	if s.p.Is61() && classic61[cmd] {
		fmt.Fprint(s.stderr, s.p.Logo())
		fmt.Fprint(s.stderr, s.usageText(cmd))
		fmt.Fprintf(s.stderr, "VBoxManage: error: %s\n", msg)
		return code
	}
	return s.syntaxError(cmd, msg, code)
}

// fail prints a single "VBoxManage: error: msg" line and returns 1.
func (s *Sim) fail(format string, args ...any) int {
	fmt.Fprintf(s.stderr, "VBoxManage: error: "+format+"\n", args...)
	return 1
}

// api prints an API error block and returns 1.
func (s *Sim) api(e apiError) int {
	fmt.Fprint(s.stderr, e.format())
	return 1
}

func (s *Sim) notFound(name, context, file string, line int) int {
	return s.api(apiError{
		Msg:  fmt.Sprintf("Could not find a registered machine named '%s'", name),
		Code: "VBOX_E_OBJECT_NOT_FOUND", Component: "VirtualBoxWrap", Interface: "IVirtualBox",
		Context: context, Line: line, File: file,
	})
}
