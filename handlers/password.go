package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"studio/domain"

	"github.com/gorilla/securecookie"
	"github.com/labstack/echo/v4"
)

// Every check of a password goes through domain.Accounts.CheckPassword,
// which decides whether to throttle; this file only tells the domain who
// is asking (passwordClient) and remembers browsers that signed in.

// knownBrowserCookie marks a browser someone signed in with: a random
// browser id and the users who signed in with it, signed with the server
// key. The password throttle holds such a browser only to its own wrong
// passwords, so guessers elsewhere cannot lock its user out. It survives
// sign-out on purpose.
const knownBrowserCookie = "studio_browser"

// KnownBrowserTTL is how long a browser stays known to a user after the
// user last signed in with it.
const KnownBrowserTTL = 90 * 24 * time.Hour

// knownBrowserUsers caps how many users one browser remembers (a shared
// computer); the one signed in with longest ago goes first.
const knownBrowserUsers = 5

type knownBrowser struct {
	ID string
	// Users maps each user who signed in with this browser to when (Unix seconds).
	Users map[int64]int64
}

func newBrowserCodec(key []byte) *securecookie.SecureCookie {
	codec := securecookie.New(key, nil)
	codec.MaxAge(int(KnownBrowserTTL.Seconds()))
	return codec
}

// knownBrowser reads the request's known-browser cookie, without the users
// whose sign-in here is older than KnownBrowserTTL.
func (h *Handlers) knownBrowser(c echo.Context) (knownBrowser, bool) {
	ck, err := c.Cookie(knownBrowserCookie)
	if err != nil {
		return knownBrowser{}, false
	}
	var kb knownBrowser
	if h.browsers.Decode(knownBrowserCookie, ck.Value, &kb) != nil || kb.ID == "" {
		return knownBrowser{}, false
	}
	oldest := h.sessions.now().Add(-KnownBrowserTTL).Unix()
	for id, at := range kb.Users {
		if at < oldest {
			delete(kb.Users, id)
		}
	}
	return kb, true
}

// passwordClient is who tries a password in this request, for the password
// throttle: the client address and, from a valid known-browser cookie, the
// browser and the users who signed in with it.
func (h *Handlers) passwordClient(c echo.Context) domain.Client {
	client := domain.Client{Address: c.RealIP()}
	if kb, ok := h.knownBrowser(c); ok {
		client.Browser = kb.ID
		for id := range kb.Users {
			client.KnownUsers = append(client.KnownUsers, id)
		}
	}
	return client
}

// rememberBrowser marks this browser as one the user signed in with.
func (h *Handlers) rememberBrowser(c echo.Context, userID int64) error {
	kb, ok := h.knownBrowser(c)
	if !ok {
		kb = knownBrowser{ID: newSessionID()[:32], Users: map[int64]int64{}}
	}
	if kb.Users == nil {
		kb.Users = map[int64]int64{}
	}
	kb.Users[userID] = h.sessions.now().Unix()
	for len(kb.Users) > knownBrowserUsers {
		oldest := userID
		for id, at := range kb.Users {
			if at < kb.Users[oldest] {
				oldest = id
			}
		}
		delete(kb.Users, oldest)
	}
	encoded, err := h.browsers.Encode(knownBrowserCookie, kb)
	if err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: knownBrowserCookie, Value: encoded, Path: "/", MaxAge: int(KnownBrowserTTL.Seconds()),
		HttpOnly: true, Secure: h.cookieSecure, SameSite: http.SameSiteLaxMode})
	return nil
}

// signInWithPassword is the console's one way to sign a person in with a
// password (the sign-in form, and accepting an invitation as an existing
// user): domain.SignIns checks it through the password throttle and says
// whether the second factor comes next. The caller goes on with
// continueSignIn (or signedIn), which remembers this browser for the user
// and tells the user how many wrong passwords were tried since the last
// sign-in. On a refusal of the throttle, the response already carries
// Retry-After.
func (h *Handlers) signInWithPassword(c echo.Context, email, password string) (domain.SignInStep, error) {
	step, err := h.signIns.WithPassword(c.Request().Context(), email, password, h.passwordClient(c))
	if err != nil {
		setRetryAfter(c, err)
		return domain.SignInStep{}, err
	}
	return step, nil
}

// failedAttemptsNotice tells the owner about wrong passwords tried on the account.
func failedAttemptsNotice(f domain.FailedAttempts) string {
	what := "1 wrong password was"
	if f.Count != 1 {
		what = strconv.Itoa(f.Count) + " wrong passwords were"
	}
	return fmt.Sprintf("%s tried on your account since your last sign-in, the last on %s from %s. If that was not you, change your password.",
		what, f.Last.UTC().Format("2 Jan 2006 at 15:04 UTC"), f.LastAddress)
}

// setRetryAfter sends Retry-After with a rate-limited error.
func setRetryAfter(c echo.Context, err error) {
	var de *domain.Error
	if errors.As(err, &de) && de.Code == domain.ERATELIMITED && de.RetryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(de.RetryAfter))
	}
}
