// Package passkey runs the WebAuthn ceremonies of passkeys and security
// keys for the domain (domain.PasskeyCeremony), with go-webauthn. It knows
// the protocol; which user may use which passkey is the domain's business.
package passkey

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"studio/domain"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// Ceremony is the relying party of this console: its origin (the base URL)
// and its RP ID (the base URL's host name).
type Ceremony struct {
	wa *webauthn.WebAuthn
	// unavailable says why passkeys cannot work here ("" when they can).
	unavailable error
}

var _ domain.PasskeyCeremony = (*Ceremony)(nil)

// ceremonyTimeout is how long the browser and the server give a person
// to touch their security key.
const ceremonyTimeout = 5 * time.Minute

// New returns the ceremonies of the console at baseURL ("https://studio.example.com").
// WebAuthn binds passkeys to the host name: they work at that address only.
func New(baseURL string) (*Ceremony, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("passkeys need the console's public URL (--base-url), not %q", baseURL)
	}
	origin := u.Scheme + "://" + u.Host
	if net.ParseIP(u.Hostname()) != nil {
		// Browsers bind passkeys to a host name and refuse an address.
		return &Ceremony{unavailable: domain.Errorf(domain.EINVALID,
			"Passkeys work only when the console is reached by a host name, not an IP address (%s). Use an authenticator app instead.", u.Hostname())}, nil
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          u.Hostname(),
		RPDisplayName: "Studio",
		RPOrigins:     []string{origin},
		// Discoverable credentials when the authenticator can (passkeys,
		// for password-less sign-in); older security keys still register,
		// as second factors.
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationPreferred,
		},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyTimeout, TimeoutUVD: ceremonyTimeout},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyTimeout, TimeoutUVD: ceremonyTimeout},
		},
	})
	if err != nil {
		return nil, err
	}
	return &Ceremony{wa: wa}, nil
}

// Unavailable says why passkeys cannot work at this console's address
// (nil when they can), for the log at start.
func (c *Ceremony) Unavailable() error { return c.unavailable }

// user is a domain.PasskeyUser as go-webauthn sees it.
type user struct {
	domain.PasskeyUser
	creds []webauthn.Credential
}

func (u *user) WebAuthnID() []byte                         { return u.Handle }
func (u *user) WebAuthnName() string                       { return u.Name }
func (u *user) WebAuthnDisplayName() string                { return u.DisplayName }
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func newUser(pu domain.PasskeyUser) (*user, error) {
	u := &user{PasskeyUser: pu}
	for _, rec := range pu.Records {
		var c webauthn.Credential
		if err := json.Unmarshal(rec, &c); err != nil {
			return nil, fmt.Errorf("read a stored passkey record: %w", err)
		}
		u.creds = append(u.creds, c)
	}
	return u, nil
}

func (u *user) descriptors() []protocol.CredentialDescriptor {
	var out []protocol.CredentialDescriptor
	for i := range u.creds {
		out = append(out, u.creds[i].Descriptor())
	}
	return out
}

func encode(options any, session *webauthn.SessionData) ([]byte, []byte, error) {
	o, err := json.Marshal(options)
	if err != nil {
		return nil, nil, err
	}
	s, err := json.Marshal(session)
	return o, s, err
}

func decodeSession(state []byte) (webauthn.SessionData, error) {
	var s webauthn.SessionData
	if err := json.Unmarshal(state, &s); err != nil || s.Challenge == "" {
		return s, errors.New("no ceremony under way")
	}
	return s, nil
}

// BeginRegistration asks the browser to create a credential, excluding
// the user's registered ones.
func (c *Ceremony) BeginRegistration(pu domain.PasskeyUser) ([]byte, []byte, error) {
	if c.unavailable != nil {
		return nil, nil, c.unavailable
	}
	u, err := newUser(pu)
	if err != nil {
		return nil, nil, err
	}
	creation, session, err := c.wa.BeginRegistration(u, webauthn.WithExclusions(u.descriptors()))
	if err != nil {
		return nil, nil, err
	}
	return encode(creation, session)
}

// FinishRegistration checks the browser's new credential.
func (c *Ceremony) FinishRegistration(pu domain.PasskeyUser, state, response []byte) (domain.PasskeyCredential, error) {
	if c.unavailable != nil {
		return domain.PasskeyCredential{}, c.unavailable
	}
	u, err := newUser(pu)
	if err != nil {
		return domain.PasskeyCredential{}, err
	}
	session, err := decodeSession(state)
	if err != nil {
		return domain.PasskeyCredential{}, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return domain.PasskeyCredential{}, describe(err)
	}
	cred, err := c.wa.CreateCredential(u, session, parsed)
	if err != nil {
		return domain.PasskeyCredential{}, describe(err)
	}
	return record(cred)
}

// BeginLogin asks for an assertion by one of the user's credentials.
func (c *Ceremony) BeginLogin(pu domain.PasskeyUser) ([]byte, []byte, error) {
	if c.unavailable != nil {
		return nil, nil, c.unavailable
	}
	u, err := newUser(pu)
	if err != nil {
		return nil, nil, err
	}
	assertion, session, err := c.wa.BeginLogin(u, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, nil, err
	}
	return encode(assertion, session)
}

// BeginDiscoverableLogin asks for an assertion by any passkey of this
// site, with user verification required.
func (c *Ceremony) BeginDiscoverableLogin() ([]byte, []byte, error) {
	if c.unavailable != nil {
		return nil, nil, c.unavailable
	}
	assertion, session, err := c.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, nil, err
	}
	return encode(assertion, session)
}

// AssertionUser reads the credential id and user handle of an assertion.
func (c *Ceremony) AssertionUser(response []byte) ([]byte, []byte, error) {
	if c.unavailable != nil {
		return nil, nil, c.unavailable
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return nil, nil, describe(err)
	}
	return parsed.RawID, parsed.Response.UserHandle, nil
}

// FinishLogin checks an assertion by one of the user's credentials.
func (c *Ceremony) FinishLogin(pu domain.PasskeyUser, state, response []byte) (domain.PasskeyCredential, error) {
	if c.unavailable != nil {
		return domain.PasskeyCredential{}, c.unavailable
	}
	u, err := newUser(pu)
	if err != nil {
		return domain.PasskeyCredential{}, err
	}
	session, err := decodeSession(state)
	if err != nil {
		return domain.PasskeyCredential{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return domain.PasskeyCredential{}, describe(err)
	}
	var cred *webauthn.Credential
	if len(session.UserID) == 0 {
		cred, err = c.wa.ValidateDiscoverableLogin(func(_, handle []byte) (webauthn.User, error) {
			if !bytes.Equal(handle, u.Handle) {
				return nil, errors.New("the user handle is not this user's")
			}
			return u, nil
		}, session, parsed)
	} else {
		cred, err = c.wa.ValidateLogin(u, session, parsed)
	}
	if err != nil {
		return domain.PasskeyCredential{}, describe(err)
	}
	if cred.Authenticator.CloneWarning {
		// The counter went back: two authenticators share this credential.
		return domain.PasskeyCredential{}, errors.New("the authenticator's signature counter went back: the key may be cloned")
	}
	out, err := record(cred)
	out.UserVerified = parsed.Response.AuthenticatorData.Flags.UserVerified()
	return out, err
}

func record(cred *webauthn.Credential) (domain.PasskeyCredential, error) {
	rec, err := json.Marshal(cred)
	if err != nil {
		return domain.PasskeyCredential{}, err
	}
	return domain.PasskeyCredential{ID: cred.ID, Record: rec, UserVerified: cred.Flags.UserVerified}, nil
}

// describe keeps the library's details (they go to the log, never to the
// person) in the error.
func describe(err error) error {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %s (%s): %w", pe.Type, pe.Details, pe.DevInfo, err)
	}
	return err
}
