package config

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

const sampleConf = "../../docs/virtvboxd.conf"

// optionLine matches a commented-out setting: "#name = value".
var optionLine = regexp.MustCompile(`^#([a-z][a-z0-9_]*) = `)

func readSample(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(sampleConf)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestSampleConfigIsAllDefaults loads the shipped file as it is: every
// setting is commented out, so it must give exactly the defaults.
func TestSampleConfigIsAllDefaults(t *testing.T) {
	for _, priv := range []bool{false, true} {
		got, err := Load(sampleConf, true, priv)
		if err != nil {
			t.Fatal(err)
		}
		want := Defaults(priv)
		want.Path = sampleConf
		if !reflect.DeepEqual(got, want) {
			t.Errorf("privileged=%v: sample config\n gives %+v\n want  %+v", priv, got, want)
		}
	}
}

// TestSampleConfigUncommented removes the '#' from every setting of the
// shipped file: each documented line must parse, the whole must pass every
// check, and the values must be the documented defaults except for the
// lines that say they show an example.
func TestSampleConfigUncommented(t *testing.T) {
	var out []string
	examples := map[string]bool{}
	pendingExample := false
	for _, line := range strings.Split(readSample(t), "\n") {
		if strings.Contains(line, "(Example value;") {
			pendingExample = true
		}
		if m := optionLine.FindStringSubmatch(line); m != nil {
			line = line[1:]
			if pendingExample {
				examples[m[1]] = true
			}
		}
		if line == "" {
			pendingExample = false
		}
		out = append(out, line)
	}
	c, err := LoadData("uncommented", []byte(strings.Join(out, "\n")), true)
	if err != nil {
		t.Fatalf("the uncommented sample does not load: %v", err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("the uncommented sample does not validate: %v", err)
	}
	def := Defaults(true)
	def.Path = c.Path
	for _, o := range Options {
		same := reflect.DeepEqual(o.value(c).Interface(), o.value(def).Interface())
		switch {
		case examples[o.Name] && same:
			t.Errorf("%s is marked as an example but shows the default", o.Name)
		case !examples[o.Name] && !same:
			t.Errorf("%s shows %v, not its default %v, and is not marked as an example",
				o.Name, o.value(c).Interface(), o.value(def).Interface())
		}
	}
	if len(examples) == 0 {
		t.Error("no example values found: the marker text changed?")
	}
}

// TestSampleConfigDocumentsEveryOption checks that every option virtvboxd
// reads appears once in the shipped file, with explanatory text above it,
// and that the file shows no option virtvboxd does not read.
func TestSampleConfigDocumentsEveryOption(t *testing.T) {
	lines := strings.Split(readSample(t), "\n")
	count := map[string]int{}
	for i, line := range lines {
		m := optionLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		count[m[1]]++
		// The setting follows its explanation, or a sibling setting
		// that shares it (min_workers/max_workers).
		j := i - 1
		for j >= 0 && optionLine.MatchString(lines[j]) {
			j--
		}
		if j < 0 || !strings.HasPrefix(lines[j], "# ") {
			t.Errorf("%s has no explanation above it", m[1])
		}
	}
	known := map[string]bool{}
	for _, o := range Options {
		known[o.Name] = true
		if count[o.Name] != 1 {
			t.Errorf("%s appears %d times in %s, want once", o.Name, count[o.Name], sampleConf)
		}
	}
	for name := range count {
		if !known[name] {
			t.Errorf("%s documents %s, which virtvboxd does not read", sampleConf, name)
		}
	}
}
