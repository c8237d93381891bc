package vboxsim

// OSType is one guest OS type of "list ostypes".
type OSType struct {
	ID, Description, FamilyID, FamilyDesc string
	Is64                                  bool
	RAM, VRAM                             int   // recommended MB
	HDD                                   int64 // recommended MB
	NIC                                   string
	Graphics                              string
	EFI                                   bool
}

var osTypes = []OSType{
	{"Other", "Other/Unknown", "Other", "Other", false, 64, 4, 2048, "Am79C973", "vboxvga", false},
	{"Other_64", "Other/Unknown (64-bit)", "Other", "Other", true, 512, 16, 2048, "82540EM", "vboxvga", false},
	{"Windows7", "Windows 7 (32-bit)", "Windows", "Microsoft Windows", false, 1024, 27, 32768, "82540EM", "vboxsvga", false},
	{"Windows7_64", "Windows 7 (64-bit)", "Windows", "Microsoft Windows", true, 2048, 27, 32768, "82540EM", "vboxsvga", false},
	{"Windows10_64", "Windows 10 (64-bit)", "Windows", "Microsoft Windows", true, 2048, 128, 51200, "82540EM", "vboxsvga", false},
	{"Windows11_64", "Windows 11 (64-bit)", "Windows", "Microsoft Windows", true, 4096, 128, 81920, "82540EM", "vboxsvga", true},
	{"Windows2019_64", "Windows 2019 (64-bit)", "Windows", "Microsoft Windows", true, 2048, 128, 51200, "82540EM", "vboxsvga", false},
	{"Windows2022_64", "Windows 2022 (64-bit)", "Windows", "Microsoft Windows", true, 2048, 128, 51200, "82540EM", "vboxsvga", false},
	{"Linux26_64", "Linux 2.6 / 3.x / 4.x / 5.x (64-bit)", "Linux", "Linux", true, 1024, 16, 8192, "82540EM", "vmsvga", false},
	{"ArchLinux_64", "Arch Linux (64-bit)", "Linux", "Linux", true, 1024, 16, 8192, "82540EM", "vmsvga", false},
	{"Debian", "Debian (32-bit)", "Linux", "Linux", false, 1024, 16, 8192, "82540EM", "vmsvga", false},
	{"Debian_64", "Debian (64-bit)", "Linux", "Linux", true, 1024, 16, 20480, "82540EM", "vmsvga", false},
	{"Fedora_64", "Fedora (64-bit)", "Linux", "Linux", true, 2048, 16, 20480, "82540EM", "vmsvga", false},
	{"OpenSUSE_64", "openSUSE (64-bit)", "Linux", "Linux", true, 1024, 16, 8192, "82540EM", "vmsvga", false},
	{"RedHat_64", "Red Hat (64-bit)", "Linux", "Linux", true, 2048, 16, 20480, "82540EM", "vmsvga", false},
	{"RedHat9_64", "Red Hat 9.x (64-bit)", "Linux", "Linux", true, 2048, 16, 20480, "82540EM", "vmsvga", false},
	{"Ubuntu", "Ubuntu (32-bit)", "Linux", "Linux", false, 1024, 16, 10240, "82540EM", "vmsvga", false},
	{"Ubuntu_64", "Ubuntu (64-bit)", "Linux", "Linux", true, 2048, 16, 25600, "82540EM", "vmsvga", false},
	{"Oracle_64", "Oracle (64-bit)", "Linux", "Linux", true, 2048, 16, 20480, "82540EM", "vmsvga", false},
	{"FreeBSD_64", "FreeBSD (64-bit)", "BSD", "BSD", true, 1024, 16, 16384, "82540EM", "vmsvga", false},
	{"OpenBSD_64", "OpenBSD (64-bit)", "BSD", "BSD", true, 1024, 16, 16384, "82540EM", "vmsvga", false},
	{"Solaris11_64", "Oracle Solaris 11 (64-bit)", "Solaris", "Solaris", true, 2048, 16, 20480, "82540EM", "vmsvga", false},
	{"MacOS_64", "Mac OS X (64-bit)", "MacOS", "Mac OS X", true, 2048, 16, 20480, "82545EM", "vboxvga", true},
	{"DOS", "DOS", "Other", "Other", false, 32, 4, 500, "Am79C973", "vboxvga", false},
}

// findOSType looks an OS type up by ID, case-insensitively as the API does.
func findOSType(id string) (OSType, bool) {
	for _, o := range osTypes {
		if equalFold(o.ID, id) {
			return o, true
		}
	}
	return OSType{}, false
}

// osDescription is what showvminfo prints for an ID (the raw ID when unknown).
func osDescription(id string) string {
	if o, ok := findOSType(id); ok {
		return o.Description
	}
	return id
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
