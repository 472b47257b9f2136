// Package sso speaks OpenID Connect to organizations' identity providers
// for the domain (domain.IdentityProvider), with go-oidc and x/oauth2:
// discovery, the authorization code flow with PKCE, and the checks of the
// ID token (signature against the provider's keys, issuer, audience,
// expiry). Who the identity is here is the domain's business.
package sso

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"studio/domain"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Provider talks to identity providers. Discovered providers (their
// endpoints and key sets) are kept for discoveryTTL.
type Provider struct {
	client *http.Client
	now    func() time.Time

	mu        sync.Mutex
	providers map[string]discovered
}

type discovered struct {
	provider *oidc.Provider
	at       time.Time
}

var _ domain.IdentityProvider = (*Provider)(nil)

// discoveryTTL is how long a provider's discovery document is trusted
// before it is read again (its keys rotate; go-oidc refetches unknown keys).
const discoveryTTL = time.Hour

// maxProviders bounds the cache (one entry per issuer).
const maxProviders = 1000

// New returns a Provider checking ID tokens' times against now. client is
// nil for the default: 10-second timeouts, and no connection to
// link-local addresses (where clouds serve instance credentials), since
// organization admins choose the issuer URL.
func New(now func() time.Time, client *http.Client) *Provider {
	if client == nil {
		client = defaultClient()
	}
	return &Provider{client: client, now: now, providers: map[string]discovered{}}
}

func defaultClient() *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, Control: refuseLinkLocal}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DialContext = dialer.DialContext
	transport.Proxy = nil
	return &http.Client{Timeout: 10 * time.Second, Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// refuseLinkLocal refuses connections to link-local and unspecified addresses.
func refuseLinkLocal(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() || ip.IsMulticast() {
		return fmt.Errorf("identity providers at %s are not reached", host)
	}
	return nil
}

func (p *Provider) ctx(ctx context.Context) context.Context { return oidc.ClientContext(ctx, p.client) }

// provider discovers (or recalls) the provider of issuer. go-oidc refuses
// a discovery document whose issuer is not issuer.
func (p *Provider) provider(ctx context.Context, issuer string) (*oidc.Provider, error) {
	now := time.Now()
	p.mu.Lock()
	d, ok := p.providers[issuer]
	p.mu.Unlock()
	if ok && now.Sub(d.at) < discoveryTTL {
		return d.provider, nil
	}
	prov, err := oidc.NewProvider(p.ctx(ctx), issuer)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", issuer, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.providers) >= maxProviders {
		for k, v := range p.providers {
			if now.Sub(v.at) >= discoveryTTL {
				delete(p.providers, k)
			}
		}
		if len(p.providers) >= maxProviders {
			p.providers = map[string]discovered{}
		}
	}
	p.providers[issuer] = discovered{provider: prov, at: now}
	return prov, nil
}

func config(prov *oidc.Provider, c domain.OIDCClient) *oauth2.Config {
	return &oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, RedirectURL: c.RedirectURL,
		Endpoint: prov.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
}

// AuthCodeURL is the provider's authorization URL for one sign-in.
func (p *Provider) AuthCodeURL(ctx context.Context, c domain.OIDCClient, state, nonce, verifier string) (string, error) {
	prov, err := p.provider(ctx, c.Issuer)
	if err != nil {
		return "", err
	}
	return config(prov, c).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// claims are the ID token's claims besides the registered ones.
type claims struct {
	Email         string          `json:"email"`
	EmailVerified json.RawMessage `json:"email_verified"`
	Name          string          `json:"name"`
}

// verified reads email_verified: true, or "true" as some providers write it.
func (c claims) verified() bool {
	var b bool
	if json.Unmarshal(c.EmailVerified, &b) == nil {
		return b
	}
	var s string
	return json.Unmarshal(c.EmailVerified, &s) == nil && s == "true"
}

// Exchange redeems the code and checks the ID token that comes back.
func (p *Provider) Exchange(ctx context.Context, c domain.OIDCClient, code, verifier string) (domain.Identity, error) {
	prov, err := p.provider(ctx, c.Issuer)
	if err != nil {
		return domain.Identity{}, err
	}
	tok, err := config(prov, c).Exchange(p.ctx(ctx), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return domain.Identity{}, fmt.Errorf("token endpoint of %s: %w", c.Issuer, err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return domain.Identity{}, errors.New("the token endpoint sent no ID token")
	}
	idt, err := prov.Verifier(&oidc.Config{ClientID: c.ClientID, Now: p.now}).Verify(p.ctx(ctx), raw)
	if err != nil {
		return domain.Identity{}, fmt.Errorf("ID token of %s: %w", c.Issuer, err)
	}
	var cl claims
	if err := idt.Claims(&cl); err != nil {
		return domain.Identity{}, fmt.Errorf("ID token claims of %s: %w", c.Issuer, err)
	}
	return domain.Identity{Issuer: idt.Issuer, Subject: idt.Subject, Email: cl.Email, EmailVerified: cl.verified(),
		Name: cl.Name, Nonce: idt.Nonce}, nil
}
