package domxml

import (
	"errors"
	"strings"
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// TestSetMetadataElement: an element is added in its namespace, replaced
// by the next one of the same URI, other namespaces are kept, and an empty
// document removes it; what libvirt refuses is refused.
func TestSetMetadataElement(t *testing.T) {
	canon := ""
	steps := []struct {
		doc, key, uri, want string
	}{
		{"<cfg role='web'><tier>front</tier></cfg>", "app", "http://a/", "<app:cfg xmlns:app='http://a/' role='web'><tier>front</tier></app:cfg>"},
		{"<os id='x'/>", "libosinfo", "http://libosinfo.org/xmlns/libvirt/domain/1.0",
			"<app:cfg xmlns:app='http://a/' role='web'><tier>front</tier></app:cfg><libosinfo:os xmlns:libosinfo='http://libosinfo.org/xmlns/libvirt/domain/1.0' id='x'/>"},
		{"\n  <cfg xmlns='http://other/' role=\"db\">a &amp; b</cfg>\n", "app", "http://a/",
			"<libosinfo:os xmlns:libosinfo='http://libosinfo.org/xmlns/libvirt/domain/1.0' id='x'/><app:cfg xmlns:app='http://a/' role='db'>a &amp; b</app:cfg>"},
		{"", "", "http://libosinfo.org/xmlns/libvirt/domain/1.0", "<app:cfg xmlns:app='http://a/' role='db'>a &amp; b</app:cfg>"},
	}
	for i, st := range steps {
		got, err := SetMetadataElement(canon, st.doc, st.key, st.uri)
		if err != nil || got != st.want {
			t.Fatalf("step %d: %v\n got %s\nwant %s", i, err, got, st.want)
		}
		canon = got
	}
	if el, ok := MetadataElement(canon, "http://a/"); !ok || el != steps[3].want {
		t.Errorf("element: %v %s", ok, el)
	}
	if _, ok := MetadataElement(canon, "http://none/"); ok {
		t.Error("an absent namespace was found")
	}
	if got := IndentMetadataElement("<a:x xmlns:a='u'><a:y>1</a:y><a:z/></a:x>"); got != "<a:x xmlns:a='u'>\n  <a:y>1</a:y>\n  <a:z/>\n</a:x>" {
		t.Errorf("indent:\n%s", got)
	}
	for name, tc := range map[string]struct{ doc, key string }{
		"two roots": {"<a/><b/>", "k"},
		"bad xml":   {"<a>", "k"},
		"text":      {"hello", "k"},
		"bad key":   {"<a/>", "a:b"},
	} {
		if _, err := SetMetadataElement(canon, tc.doc, tc.key, "http://n/"); err == nil ||
			!errors.Is(err, errdefs.ErrXML) && !errors.Is(err, errdefs.ErrInvalidArg) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if strings.Contains(canon, "\n") {
		t.Errorf("canonical metadata has a newline: %q", canon)
	}
}
