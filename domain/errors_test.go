package domain_test

import (
	"errors"
	"fmt"
	"testing"

	"studio/domain"
)

func TestErrorHelpers(t *testing.T) {
	app := domain.Errorf(domain.ECONFLICT, "Project %q exists.", "x")
	wrapped := fmt.Errorf("saving: %w", app)
	plain := errors.New("disk on fire at /var/lib/studio")
	for _, c := range []struct {
		err       error
		code, msg string
	}{
		{nil, "", "Internal error."},
		{app, domain.ECONFLICT, `Project "x" exists.`},
		{wrapped, domain.ECONFLICT, `Project "x" exists.`},
		{plain, domain.EINTERNAL, "Internal error."},
		{domain.ErrNotFound("Project"), domain.ENOTFOUND, "Project not found."},
	} {
		if got := domain.ErrorCode(c.err); got != c.code {
			t.Errorf("ErrorCode(%v) = %q, want %q", c.err, got, c.code)
		}
		if c.err == nil {
			continue
		}
		if got := domain.ErrorMessage(c.err); got != c.msg {
			t.Errorf("ErrorMessage(%v) = %q, want %q", c.err, got, c.msg)
		}
	}
	fe := domain.FieldError("displayName", "Enter a name.")
	if domain.ErrorCode(fe) != domain.EINVALID || domain.ErrorMessage(fe) != "Enter a name." {
		t.Errorf("FieldError = %v", fe)
	}
	if got := domain.FieldErrors(fmt.Errorf("x: %w", fe)); len(got) != 1 || got["displayName"] != "Enter a name." {
		t.Errorf("FieldErrors(wrapped) = %v", got)
	}
	if got := domain.FieldErrors(plain); got != nil {
		t.Errorf("FieldErrors(plain) = %v, want nil", got)
	}
}
