package errdefs

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
)

func TestClassesSurviveWrapping(t *testing.T) {
	cause := errors.New("VBoxManage: error: Could not find a registered machine named 'x'")
	err := fmt.Errorf("showvminfo %q: %w", "x", Wrap(ErrNoDomain, cause, "no domain with matching name 'x'"))

	if !errors.Is(err, ErrNoDomain) {
		t.Errorf("errors.Is(%v, ErrNoDomain) = false", err)
	}
	if errors.Is(err, ErrInternal) {
		t.Errorf("errors.Is(%v, ErrInternal) = true", err)
	}
	if !errors.Is(err, cause) {
		t.Errorf("the cause is lost: %v", err)
	}
	if got := ClassOf(err); got != ErrNoDomain {
		t.Errorf("ClassOf = %v", got)
	}
	if got := Detail(err); got != "no domain with matching name 'x'" {
		t.Errorf("Detail = %q", got)
	}
}

func TestDetailAndClassOfUnclassified(t *testing.T) {
	for _, tc := range []struct {
		err    error
		class  error
		detail string
	}{
		{errors.New("plain"), ErrInternal, "plain"},
		{fmt.Errorf("wrapped: %w", ErrOperationInvalid), ErrOperationInvalid, "wrapped: requested operation is not valid"},
		{New(ErrNoSupport, "virDomainReboot"), ErrNoSupport, "virDomainReboot"},
		{Newf(ErrInvalidArg, "flags 0x%x", 8), ErrInvalidArg, "flags 0x8"},
		{&Error{Class: ErrXML}, ErrXML, "XML error"},
		{&Error{Class: ErrSystem, Cause: errors.New("EIO")}, ErrSystem, "EIO"},
	} {
		if got := ClassOf(tc.err); got != tc.class {
			t.Errorf("ClassOf(%v) = %v, want %v", tc.err, got, tc.class)
		}
		if got := Detail(tc.err); got != tc.detail {
			t.Errorf("Detail(%v) = %q, want %q", tc.err, got, tc.detail)
		}
	}
}

func TestErrorText(t *testing.T) {
	if got := New(ErrNoDomain, "no domain with matching id 7").Error(); got != "domain not found: no domain with matching id 7" {
		t.Errorf("Error() = %q", got)
	}
}

func TestStrerror(t *testing.T) {
	if got := Strerror(fmt.Errorf("open: %w", syscall.ENOENT)); got != "No such file or directory" {
		t.Errorf("Strerror(ENOENT) = %q", got)
	}
	if got := Strerror(errors.New("plain")); got != "plain" {
		t.Errorf("Strerror(plain) = %q", got)
	}
}
