package domain

import (
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// matchTOTP accepts the codes of the step before, the current step and
// the one after, never a step at or before the last one accepted.
func TestMatchTOTPWindowAndReplay(t *testing.T) {
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	now := time.Unix(1_800_000_015, 0) // step 60_000_000, 15 s in
	step := now.Unix() / totpPeriod
	code := func(s int64) string {
		c, err := totp.GenerateCode(secret, time.Unix(s*totpPeriod, 0))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, tc := range []struct {
		name     string
		codeStep int64
		last     int64
		want     int64 // 0: refused
	}{
		{"current step", step, 0, step},
		{"step before (a code typed at its end)", step - 1, 0, step - 1},
		{"step after (a clock a little ahead)", step + 1, 0, step + 1},
		{"two steps before", step - 2, 0, 0},
		{"two steps after", step + 2, 0, 0},
		{"current step, used already", step, step, 0},
		{"step before, after a newer one was used", step - 1, step, 0},
		{"step after, the current one used", step + 1, step, step + 1},
	} {
		got, ok := matchTOTP(secret, code(tc.codeStep), now, tc.last)
		if ok != (tc.want != 0) || got != tc.want {
			t.Errorf("%s: step %d, %v; want %d", tc.name, got, ok, tc.want)
		}
	}
	if _, ok := matchTOTP(secret, "000000", now, 0); ok && code(step) != "000000" {
		t.Error("a wrong code matched")
	}
}

func TestNormalizeCodeAndShapes(t *testing.T) {
	for in, want := range map[string]string{" 123 456 ": "123456", "ABCDE-FGH23": "abcdefgh23", "abcde fgh23\t": "abcdefgh23"} {
		if got := normalizeCode(in); got != want {
			t.Errorf("normalizeCode(%q) = %q, want %q", in, got, want)
		}
	}
	if !isTOTPCode("012345") || isTOTPCode("12345") || isTOTPCode("12345a") {
		t.Error("isTOTPCode accepts the wrong shapes")
	}
	// No 0, 1, l or o: they read alike.
	if !isRecoveryCode("abcdefgh23") || isRecoveryCode("abcdefgh10") || isRecoveryCode("abcdefgh2") {
		t.Error("isRecoveryCode accepts the wrong shapes")
	}
	s := &SecondFactors{recoveryKey: []byte("k")}
	codes, hashes := s.newRecoveryCodes()
	seen := map[string]bool{}
	for i, c := range codes {
		if !isRecoveryCode(normalizeCode(c)) || seen[c] || s.recoveryHash(strings.ToUpper(c)) != hashes[i] || strings.Contains(hashes[i], normalizeCode(c)) {
			t.Errorf("recovery code %q (hash %s) is malformed, repeated or not hashed", c, hashes[i])
		}
		seen[c] = true
	}
	if other := (&SecondFactors{recoveryKey: []byte("another server key")}).recoveryHash(codes[0]); other == hashes[0] {
		t.Error("the hash does not depend on the server key")
	}
}

func TestCleanIssuerAndDomains(t *testing.T) {
	for raw, wantOK := range map[string]bool{
		"https://login.example.com":         true,
		"https://login.example.com/tenant/": true,
		"http://127.0.0.1:5556":             true,
		"http://localhost:8080/realms/x":    true,
		"http://login.example.com":          false, // not https, not this machine
		"https://login.example.com/?a=1":    false,
		"https://login.example.com/#frag":   false,
		"https://user@login.example.com":    false,
		"login.example.com":                 false,
		"":                                  false,
		"javascript:alert(1)":               false,
	} {
		got, msg := cleanIssuer(raw)
		if (msg == "") != wantOK {
			t.Errorf("cleanIssuer(%q) = %q, %q", raw, got, msg)
		}
		if wantOK && strings.HasSuffix(got, "/") {
			t.Errorf("cleanIssuer(%q) keeps the trailing slash: %q", raw, got)
		}
	}
	got, msg := cleanDomains("Corp.Example, @corp.example\nexample.org; ")
	if msg != "" || strings.Join(got, " ") != "corp.example example.org" {
		t.Errorf("cleanDomains = %v, %q", got, msg)
	}
	for _, bad := range []string{"", "localhost", "exa mple.com", "-bad.example", "ex_ample.com", "éxample.com"} {
		if _, msg := cleanDomains(bad); msg == "" {
			t.Errorf("cleanDomains(%q) accepted", bad)
		}
	}
}
