package callctx

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
)

func TestWithAndLog(t *testing.T) {
	var buf bytes.Buffer
	l := logrus.New()
	l.SetOutput(&buf)
	l.SetFormatter(&logrus.TextFormatter{DisableTimestamp: true})
	call := Call{Client: 7, PID: 1234, UID: 1000, Program: 0x20008086, Procedure: 16, Proc: "DOMAIN_GET_INFO", Serial: 42}
	ctx := With(context.Background(), call, l.WithFields(logrus.Fields{"client": call.Client, "pid": call.PID, "uid": call.UID}))
	got, ok := From(ctx)
	if !ok || got != call {
		t.Fatalf("From = %+v, %v", got, ok)
	}
	Log(ctx).Info("running VBoxManage")
	for _, want := range []string{"client=7", "pid=1234", "uid=1000", "proc=DOMAIN_GET_INFO", "serial=42", "running VBoxManage"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log line %q lacks %q", buf.String(), want)
		}
	}
}

func TestOutsideACall(t *testing.T) {
	if _, ok := From(context.Background()); ok {
		t.Error("From found a call in a bare context")
	}
	if e := Log(context.Background()); e == nil || len(e.Data) != 0 {
		t.Errorf("Log outside a call = %+v, want a field-less entry", e)
	}
}

func TestFields(t *testing.T) {
	if f := Fields(context.Background()); f != nil {
		t.Errorf("Fields outside a call = %v", f)
	}
	call := Call{Client: 3, PID: 99, UID: 0, Proc: "DOMAIN_CREATE", Serial: 5}
	f := Fields(With(context.Background(), call, nil))
	want := logrus.Fields{"client": uint64(3), "pid": int32(99), "uid": uint32(0), "proc": "DOMAIN_CREATE", "serial": uint32(5)}
	if len(f) != len(want) {
		t.Fatalf("Fields = %v, want %v", f, want)
	}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("Fields[%s] = %v (%T), want %v", k, f[k], f[k], v)
		}
	}
}
