package vbox

import (
	"bytes"
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/virtvboxd/virtvboxd/internal/callctx"
	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// claimedMethods returns the driver.Conn methods this package declares on
// *conn in its source: what the driver claims to implement (the others are
// promoted from driver.Unsupported).
func claimedMethods(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	contract := reflect.TypeFor[driver.Conn]()
	var out []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || len(fn.Recv.List) != 1 {
				continue
			}
			star, ok := fn.Recv.List[0].Type.(*ast.StarExpr)
			if !ok {
				continue
			}
			if id, ok := star.X.(*ast.Ident); !ok || id.Name != "conn" {
				continue
			}
			if _, ok := contract.MethodByName(fn.Name.Name); ok {
				out = append(out, fn.Name.Name)
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestClaimedMethodsAnswer: every driver.Conn method the VirtualBox driver
// declares answers something other than "not supported" when called on a
// real (simulated) machine, and every method it does not declare answers
// "not supported" (so a claim cannot be lost to a typo in a signature).
func TestClaimedMethodsAnswer(t *testing.T) {
	s := newSim(t)
	s.seed(2, 1)
	ctx := context.Background()
	doms, err := s.conn.ListAllDomains(ctx, 0)
	if err != nil || len(doms) == 0 {
		t.Fatalf("list: %v (%d domains)", err, len(doms))
	}
	dom := doms[0]
	xml, err := s.conn.DomainGetXMLDesc(ctx, dom, 0)
	if err != nil {
		t.Fatal(err)
	}
	claimed := map[string]bool{}
	for _, m := range claimedMethods(t) {
		claimed[m] = true
	}
	if len(claimed) < 30 {
		t.Fatalf("only %d claimed methods found: %v", len(claimed), claimedMethods(t))
	}
	// Calls that end the connection or remove the machine go last.
	last := map[string]int{"DomainUndefine": 1, "Close": 2}
	contract := reflect.TypeFor[driver.Conn]()
	names := make([]string, 0, contract.NumMethod())
	for i := 0; i < contract.NumMethod(); i++ {
		names = append(names, contract.Method(i).Name)
	}
	sort.SliceStable(names, func(i, j int) bool { return last[names[i]] < last[names[j]] })
	cv := reflect.ValueOf(s.conn)
	for _, name := range names {
		m := cv.MethodByName(name)
		mt := m.Type()
		args := make([]reflect.Value, mt.NumIn())
		for i := range args {
			switch in := mt.In(i); {
			case in == reflect.TypeFor[context.Context]():
				args[i] = reflect.ValueOf(ctx)
			case in == reflect.TypeFor[driver.Domain]():
				args[i] = reflect.ValueOf(dom)
			case in == reflect.TypeFor[[16]byte]():
				args[i] = reflect.ValueOf(dom.UUID)
			case in.Kind() == reflect.String && strings.Contains(name, "XML"):
				args[i] = reflect.ValueOf(xml).Convert(in)
			case in.Kind() == reflect.String && name == "LookupByName":
				args[i] = reflect.ValueOf(dom.Name).Convert(in)
			default:
				args[i] = reflect.Zero(in)
			}
		}
		outs := m.Call(args)
		var err error
		if e := outs[len(outs)-1]; e.Type() == reflect.TypeFor[error]() && !e.IsNil() {
			err = e.Interface().(error)
		}
		unsupported := errors.Is(err, errdefs.ErrNoSupport)
		switch {
		case claimed[name] && unsupported:
			t.Errorf("%s is implemented but answers %v", name, err)
		case !claimed[name] && !unsupported && name != "Close" && name != "URI" && name != "Type":
			t.Errorf("%s is not implemented but answers %v instead of not supported", name, err)
		}
	}
}

// TestLogLinesNameTheCall: the VBoxManage run a call causes is logged with
// the call's client, pid, uid, procedure and serial.
func TestLogLinesNameTheCall(t *testing.T) {
	s := newSim(t)
	s.seed(1, 0)
	var buf bytes.Buffer
	l := logrus.New()
	l.SetOutput(&buf)
	l.SetLevel(logrus.DebugLevel)
	l.SetFormatter(&logrus.TextFormatter{DisableTimestamp: true})
	s.drv.log = logrus.NewEntry(l).WithField("module", "vbox")
	s.drv.inv.Invalidate()
	call := callctx.Call{Client: 12, PID: 345, UID: 1000, Proc: "CONNECT_LIST_ALL_DOMAINS", Serial: 77}
	ctx := callctx.With(context.Background(), call, nil)
	if _, err := s.conn.ListAllDomains(ctx, 0); err != nil {
		t.Fatal(err)
	}
	var line string
	for _, l := range strings.Split(buf.String(), "\n") {
		if strings.Contains(l, "msg=VBoxManage") && strings.Contains(l, "list") {
			line = l
			break
		}
	}
	if line == "" {
		t.Fatalf("no VBoxManage line logged:\n%s", buf.String())
	}
	for _, want := range []string{"client=12", "pid=345", "uid=1000", "proc=CONNECT_LIST_ALL_DOMAINS", "serial=77", "module=vbox"} {
		if !strings.Contains(line, want) {
			t.Errorf("log line %q lacks %q", line, want)
		}
	}
}
