package handlers

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"studio/domain"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// SessionCookieName is the name of the console's session cookie.
const SessionCookieName = "studio_session"

// Session lifetimes: a session ends after IdleTimeout without a request,
// and AbsoluteTimeout after sign-in whatever happens.
const (
	IdleTimeout     = 12 * time.Hour
	AbsoluteTimeout = 7 * 24 * time.Hour
	// touchEvery bounds how often a request writes last_seen.
	touchEvery = time.Minute
	// touchWait bounds how long a request waits for that write.
	touchWait = time.Second
)

const sessionUserKey = "user_id"

// SessionStore is a gorilla/sessions Store that keeps sessions server-side:
// the cookie holds only a random id, signed with the server key; the row
// holds a SHA-256 hash of that id, so deleting the row ends the session
// even for a copied cookie.
type SessionStore struct {
	rows   domain.Sessions
	codec  securecookie.Codec
	secure bool
	now    func() time.Time
}

// NewSessionStore returns a store signing cookies with hashKey.
func NewSessionStore(rows domain.Sessions, hashKey []byte, secure bool, now func() time.Time) *SessionStore {
	codec := securecookie.New(hashKey, nil)
	codec.MaxAge(int(AbsoluteTimeout.Seconds()))
	return &SessionStore{rows: rows, codec: codec, secure: secure, now: now}
}

func (s *SessionStore) options() *sessions.Options {
	return &sessions.Options{Path: "/", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode}
}

// Get returns the request's session, cached for the request.
func (s *SessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session named by the request's cookie, or returns a new
// empty one when there is none or it has expired.
func (s *SessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	sess.Options = s.options()
	sess.IsNew = true
	c, err := r.Cookie(name)
	if err != nil {
		return sess, nil
	}
	var id string
	if err := s.codec.Decode(name, c.Value, &id); err != nil {
		return sess, nil
	}
	row, err := s.rows.SessionByHash(r.Context(), hashSessionID(id))
	if err != nil {
		if domain.ErrorCode(err) == domain.ENOTFOUND {
			return sess, nil
		}
		return sess, err
	}
	now := s.now()
	if now.Sub(row.LastSeen) > IdleTimeout || now.Sub(row.CreateTime) > AbsoluteTimeout {
		return sess, s.rows.DeleteSession(r.Context(), row.IDHash)
	}
	values := map[any]any{}
	if err := (securecookie.GobEncoder{}).Deserialize(row.Data, &values); err != nil {
		return sess, nil
	}
	sess.ID, sess.Values, sess.IsNew = id, values, false
	sess.Values[sessionUserKey] = row.UserID
	if now.Sub(row.LastSeen) > touchEvery {
		// A read must not wait for writes: the touch gets a moment, and
		// when the database cannot save it (locked by another process,
		// disk full) the page is shown all the same; a missed touch only
		// brings the idle timeout closer.
		ctx, cancel := context.WithTimeout(r.Context(), touchWait)
		err := s.rows.UpdateSession(ctx, row.IDHash, row.Data, now)
		cancel()
		if err != nil && domain.ErrorCode(err) != domain.EUNAVAILABLE && ctx.Err() == nil {
			return sess, err
		}
	}
	return sess, nil
}

// Save writes the session row and the cookie. A session with MaxAge < 0 is
// deleted; a session without a signed-in user is not stored at all.
func (s *SessionStore) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	ctx := r.Context()
	if sess.Options.MaxAge < 0 {
		if sess.ID != "" {
			if err := s.rows.DeleteSession(ctx, hashSessionID(sess.ID)); err != nil {
				return err
			}
		}
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", sess.Options))
		return nil
	}
	userID, _ := sess.Values[sessionUserKey].(int64)
	if userID == 0 {
		return nil
	}
	data, err := (securecookie.GobEncoder{}).Serialize(sess.Values)
	if err != nil {
		return err
	}
	now := s.now()
	if sess.ID == "" {
		sess.ID = newSessionID()
		err = s.rows.CreateSession(ctx, domain.Session{IDHash: hashSessionID(sess.ID), UserID: userID, Data: data, CreateTime: now, LastSeen: now})
	} else {
		err = s.rows.UpdateSession(ctx, hashSessionID(sess.ID), data, now)
	}
	if err != nil {
		return err
	}
	encoded, err := s.codec.Encode(sess.Name(), sess.ID)
	if err != nil {
		return err
	}
	http.SetCookie(w, sessions.NewCookie(sess.Name(), encoded, sess.Options))
	return nil
}

func newSessionID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

func hashSessionID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}
