package domain

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// Invitations: the invite links of pending memberships, their emails, and
// their acceptance.

// Audit actions of members and invitations.
const (
	ActionInvitationIssue  = "invitation.issue"
	ActionInvitationAccept = "invitation.accept"
)

// DefaultInviteTTL is how long an invite link works.
const DefaultInviteTTL = 7 * 24 * time.Hour

// createInvitation makes the invitation of a new pending user membership,
// with the invitation email queued. It has no shareable link yet.
func (s *Members) createInvitation(ctx context.Context, tx Tx, p Principal, now time.Time, m Membership) (Invitation, error) {
	inv := newInvitation(p, now, m)
	if err := tx.CreateInvitation(ctx, &inv); err != nil {
		return inv, err
	}
	return inv, queueInviteEmail(ctx, tx, p, now, inv, m.AccountEmail)
}

// newInvitation is p's invitation to a user's membership m, not yet stored.
func newInvitation(p Principal, now time.Time, m Membership) Invitation {
	return Invitation{UserID: mustInt(m.Account.ID), OrganizationID: m.OrganizationID, ProjectID: m.ProjectID,
		MembershipID: m.ID, Inviter: p.Account, InviterEmail: p.Email, CreateTime: now}
}

// issueShareableLink gives an invitation a new shareable link, which ends
// the previous one, and returns it. Only its hash is stored.
func (s *Members) issueShareableLink(ctx context.Context, tx Tx, p Principal, now time.Time, inv Invitation) (string, error) {
	token := randomToken()
	t := InviteToken{Hash: HashToken(token), IssuedBy: p.Email, IssueTime: now, ExpireTime: now.Add(s.inviteTTL)}
	if err := tx.SetInvitationToken(ctx, inv.ID, InviteShareable, t); err != nil {
		return "", err
	}
	return s.inviteURL(token), nil
}

func (s *Members) inviteURL(token string) string { return s.baseURL + "/invite/" + token }

const inviteSubject = "You are invited to Studio"

// queueInviteEmail queues the invitation email. It holds no link: the
// emailed link is minted when the email is sent (DeliverOutbox).
func queueInviteEmail(ctx context.Context, tx Tx, p Principal, now time.Time, inv Invitation, email string) error {
	return tx.AddOutbox(ctx, OutboxMessage{To: email, Subject: inviteSubject, InvitationID: inv.ID, RequestedBy: p.Email, CreateTime: now})
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// HashToken is how invitation tokens (and later access tokens) are stored.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// invite makes the invitation of a new pending user membership and
// returns its shareable link.
func (s *Members) invite(ctx context.Context, tx Tx, p Principal, now time.Time, m Membership) (string, error) {
	inv, err := s.createInvitation(ctx, tx, p, now, m)
	if err != nil {
		return "", err
	}
	return s.issueShareableLink(ctx, tx, p, now, inv)
}

// reissue gives the invitation of a pending user membership a new
// shareable link and a new email. The membership is read inside the
// transaction, so the link is for the membership as it is now.
func (s *Members) reissue(ctx context.Context, p Principal, find func(Tx) (Membership, error)) (string, error) {
	now := s.now()
	var link string
	err := s.store.Update(ctx, func(tx Tx) error {
		m, err := find(tx)
		if err != nil {
			return err
		}
		if m.Account.Type != AccountUser || m.Status != StatusPending {
			return Errorf(EINVALID, "Only a member who has not yet accepted an invitation has an invite link.")
		}
		// Whoever holds the link takes the pending membership: a link to
		// an admin role grants it.
		if err := requireRecentAuth(p, now, roleChange(RoleNone, m.Role)); err != nil {
			return err
		}
		inv, err := tx.InvitationForMembership(ctx, m)
		if ErrorCode(err) == ENOTFOUND {
			// A pending membership from before invitations were bound to
			// memberships (migration 006) gets its invitation now.
			inv = newInvitation(p, now, m)
			err = tx.CreateInvitation(ctx, &inv)
		}
		if err != nil {
			return err
		}
		if link, err = s.issueShareableLink(ctx, tx, p, now, inv); err != nil {
			return err
		}
		if err := queueInviteEmail(ctx, tx, p, now, inv, m.AccountEmail); err != nil {
			return err
		}
		e := auditEntry(p, now, ActionInvitationIssue, "user", m.Account.ID, m.AccountEmail)
		e.OrganizationID, e.ProjectID = m.OrganizationID, m.ProjectID
		e.Detail = fmt.Sprintf("Invitation %d: new shareable link (the previous one no longer works) and a new invitation email", inv.ID)
		return tx.AddAudit(ctx, e)
	})
	return link, err
}

// InviteMode says what opening an invite link asks of the person.
type InviteMode string

const (
	// InviteSetPassword: the account has no password yet; the person
	// chooses a name and a password, which accepts this invitation.
	InviteSetPassword InviteMode = "set-password"
	// InviteReclaim: an emailed link of an account whose email is not
	// verified. The link proves the mailbox, so the person may set a new
	// password (taking the address back from whoever claimed it through a
	// shared link), or sign in as usual.
	InviteReclaim InviteMode = "reclaim"
	// InviteSignIn: the account has a password; the person signs in as it
	// (or, already signed in as it, just accepts).
	InviteSignIn InviteMode = "sign-in"
)

// InviteLink is an open invitation as its link's page shows it.
type InviteLink struct {
	Invitation Invitation
	Kind       InviteKind // which of its links was opened
	User       User
	Membership Membership // the one membership it covers
	// OrganizationName and ProjectName (empty for an organization
	// membership) say where the invitation leads.
	OrganizationName string
	ProjectName      string
	Mode             InviteMode
}

func inviteMode(u User, kind InviteKind) InviteMode {
	switch {
	case u.Pending():
		return InviteSetPassword
	case kind == InviteEmailed && !u.EmailVerified:
		return InviteReclaim
	}
	return InviteSignIn
}

var (
	errBadInvite      = Errorf(ENOTFOUND, "This invite link is not valid: it may have been replaced by a newer one or the invitation withdrawn. Ask the person who invited you for a new one.")
	errInviteAccepted = Errorf(ENOTFOUND, "This invitation was already accepted. Sign in with your email and password.")
	errInviteExpired  = Errorf(ENOTFOUND, "This invite link has expired. Ask the person who invited you for a new one.")
)

// OpenInvitation returns the open invitation an invite link is for. An
// unknown, replaced, used or expired link is not found.
func (s *Members) OpenInvitation(ctx context.Context, token string) (InviteLink, error) {
	return s.openInvitation(ctx, s.store, token)
}

func (s *Members) openInvitation(ctx context.Context, r invitationLinkReader, token string) (InviteLink, error) {
	if len(token) != 64 {
		return InviteLink{}, errBadInvite
	}
	inv, kind, err := r.InvitationByTokenHash(ctx, HashToken(token))
	if ErrorCode(err) == ENOTFOUND {
		return InviteLink{}, errBadInvite
	}
	if err != nil {
		return InviteLink{}, err
	}
	if !inv.AcceptTime.IsZero() {
		return InviteLink{}, errInviteAccepted
	}
	if !s.now().Before(inv.Token(kind).ExpireTime) {
		return InviteLink{}, errInviteExpired
	}
	u, err := r.UserByID(ctx, inv.UserID)
	if err != nil {
		return InviteLink{}, notFoundAs(err, errBadInvite)
	}
	if u.Locked {
		return InviteLink{}, Errorf(EFORBIDDEN, "This account is locked. Contact your support team.")
	}
	link := InviteLink{Invitation: inv, Kind: kind, User: u, Mode: inviteMode(u, kind)}
	org, err := r.OrganizationByID(ctx, inv.OrganizationID)
	if err != nil {
		return InviteLink{}, notFoundAs(err, errBadInvite)
	}
	link.OrganizationName = org.DisplayName
	if inv.ProjectID != "" {
		// perr, not err: a := here would shadow the err that the
		// membership read below sets and the check after the if reads.
		proj, perr := r.ProjectByID(ctx, inv.ProjectID)
		if perr != nil {
			return InviteLink{}, notFoundAs(perr, errBadInvite)
		}
		link.ProjectName = proj.DisplayName
		link.Membership, err = r.ProjectMembership(ctx, inv.ProjectID, userRef(u.ID))
	} else {
		link.Membership, err = r.OrgMembership(ctx, inv.OrganizationID, userRef(u.ID))
	}
	if err != nil {
		return InviteLink{}, notFoundAs(err, errBadInvite)
	}
	if link.Membership.ID != inv.MembershipID {
		return InviteLink{}, errBadInvite
	}
	if link.Membership.Status != StatusPending {
		return InviteLink{}, errInviteAccepted
	}
	return link, nil
}

// invitationLinkReader is what opening an invite link reads.
type invitationLinkReader interface {
	InvitationReader
	UserReader
	OrganizationReader
	ProjectReader
	MembershipReader
}

// notFoundAs replaces a not-found error with a friendlier one.
func notFoundAs(err, with error) error {
	if ErrorCode(err) == ENOTFOUND {
		return with
	}
	return err
}

// AcceptInvitation accepts the one membership of an invitation for an
// account without a password (InviteSetPassword), or one that the emailed
// link lets take back (InviteReclaim): it sets the name and password. An
// emailed link marks the email verified. Taking an account back ends every
// session it had. An account with a password accepts by signing in
// (AcceptInvitationAs) instead.
func (s *Members) AcceptInvitation(ctx context.Context, token, name, password, confirm, remoteAddr string) (User, error) {
	link, err := s.OpenInvitation(ctx, token)
	if err != nil {
		return User{}, err
	}
	if link.Mode == InviteSignIn {
		return User{}, Errorf(EFORBIDDEN, "%s already has a password: sign in to accept the invitation.", link.User.Email)
	}
	if name, err = CleanDisplayName("name", name); err != nil {
		return User{}, err
	}
	if err := CheckNewPassword("password", password, link.User.Email); err != nil {
		return User{}, err
	}
	if password != confirm {
		return User{}, FieldError("confirm", "The two passwords do not match.")
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return User{}, err
	}
	now := s.now()
	u := link.User
	err = s.store.Update(ctx, func(tx Tx) error {
		// Checked again inside the transaction: a link works once, and a
		// password set meanwhile (through another link) changes the mode.
		again, err := s.openInvitation(ctx, tx, token)
		if err != nil {
			return err
		}
		if again.Invitation.ID != link.Invitation.ID || again.Mode != link.Mode {
			return Errorf(ENOTFOUND, "This invitation changed while the page was open. Open the link again.")
		}
		if err := tx.SetUserName(ctx, u.ID, name); err != nil {
			return err
		}
		if err := tx.SetPassword(ctx, u.ID, hash, now); err != nil {
			return err
		}
		// Accepting signs the user in.
		if err := tx.SetLastSignIn(ctx, u.ID, now); err != nil {
			return err
		}
		note := "name and password set"
		if link.Mode == InviteReclaim {
			note = "the emailed link set a new password; the account's other sessions ended"
		}
		if link.Kind == InviteEmailed {
			if err := tx.SetEmailVerified(ctx, u.ID); err != nil {
				return err
			}
			note += "; email verified"
		}
		actor := Principal{Account: userRef(u.ID), UserID: u.ID, Email: u.Email, RemoteAddr: remoteAddr}
		return acceptInvitation(ctx, tx, actor, now, again, note)
	})
	if err != nil {
		return User{}, err
	}
	if link.Mode == InviteReclaim {
		// Whoever set the old password is signed out everywhere.
		if err := s.store.DeleteUserSessions(ctx, u.ID, ""); err != nil {
			return User{}, err
		}
	}
	u.DisplayName, u.PasswordHash, u.LastSignIn, u.PasswordChanged = name, hash, now, now
	u.EmailVerified = u.EmailVerified || link.Kind == InviteEmailed
	return u, nil
}

// AcceptInvitationAs accepts the one membership of an invitation for the
// signed-in user it is for. An emailed link also marks the email verified:
// the person both reads its mail and knows its password.
func (s *Members) AcceptInvitationAs(ctx context.Context, p Principal, token string) (InviteLink, error) {
	if !p.IsUser() {
		return InviteLink{}, Errorf(EFORBIDDEN, "Sign in to accept the invitation.")
	}
	now := s.now()
	var link InviteLink
	err := s.store.Update(ctx, func(tx Tx) error {
		var err error
		if link, err = s.openInvitation(ctx, tx, token); err != nil {
			return err
		}
		if link.User.ID != p.UserID {
			return Errorf(EFORBIDDEN, "This invitation is for %s, and you are signed in as %s. Sign in as %s to accept it.",
				link.User.Email, p.Email, link.User.Email)
		}
		note := "signed in"
		if link.Kind == InviteEmailed && !link.User.EmailVerified {
			if err := tx.SetEmailVerified(ctx, link.User.ID); err != nil {
				return err
			}
			note += "; email verified"
		}
		return acceptInvitation(ctx, tx, p, now, link, note)
	})
	return link, err
}

// acceptInvitation accepts the invitation's one membership, ends its links,
// and writes the acceptance to the audit log of the organization that
// invited: who, when, and from which link.
func acceptInvitation(ctx context.Context, tx Tx, actor Principal, now time.Time, link InviteLink, note string) error {
	if err := tx.AcceptMembership(ctx, link.Membership); err != nil {
		return err
	}
	if err := tx.CloseInvitation(ctx, link.Invitation.ID, now); err != nil {
		return err
	}
	inv, tok := link.Invitation, link.Invitation.Token(link.Kind)
	e := auditEntry(actor, now, ActionInvitationAccept, "membership", link.Membership.Account.ID, link.User.Email)
	e.OrganizationID, e.ProjectID = inv.OrganizationID, inv.ProjectID
	e.Detail = fmt.Sprintf("%s; invitation %d by %s, %s link issued by %s at %s; %s",
		RoleDisplayName(link.Membership.Role), inv.ID, inv.InviterEmail, link.Kind, tok.IssuedBy,
		tok.IssueTime.UTC().Format("2006-01-02 15:04:05 UTC"), note)
	return tx.AddAudit(ctx, e)
}

// DeliverOutbox sends up to limit waiting emails through send, oldest
// first, and stops at the first that fails (it stays queued). An
// invitation email gets its body only here: a new emailed link is minted
// (ending the previous emailed link of that invitation) and lives only in
// the message handed to send. An email whose invitation was accepted or
// withdrawn is dropped unsent. Sent emails keep no body.
func (s *Members) DeliverOutbox(ctx context.Context, limit int, send func(OutboxMessage) error) (int, error) {
	msgs, err := s.store.UnsentOutbox(ctx, limit)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, m := range msgs {
		if m.InvitationID != 0 {
			drop := false
			err := s.store.Update(ctx, func(tx Tx) error {
				inv, err := tx.InvitationByID(ctx, m.InvitationID)
				if ErrorCode(err) == ENOTFOUND || err == nil && !inv.AcceptTime.IsZero() {
					drop = true
					return tx.DeleteOutbox(ctx, m.ID)
				}
				if err != nil {
					return err
				}
				m.Body, err = s.inviteEmailBody(ctx, tx, inv, m.RequestedBy)
				return err
			})
			if err != nil {
				return sent, err
			}
			if drop {
				continue
			}
		}
		if err := send(m); err != nil {
			return sent, err
		}
		if err := s.store.Update(ctx, func(tx Tx) error { return tx.MarkOutboxSent(ctx, m.ID, s.now()) }); err != nil {
			return sent, err
		}
		sent++
	}
	return sent, nil
}

// inviteEmailBody mints the invitation's emailed link and writes the email.
func (s *Members) inviteEmailBody(ctx context.Context, tx Tx, inv Invitation, requestedBy string) (string, error) {
	org, err := tx.OrganizationByID(ctx, inv.OrganizationID)
	if err != nil {
		return "", err
	}
	where := "the organization " + org.DisplayName + " as organization admin"
	if inv.ProjectID != "" {
		proj, err := tx.ProjectByID(ctx, inv.ProjectID)
		if err != nil {
			return "", err
		}
		where = "the project " + proj.DisplayName + " of " + org.DisplayName
	}
	if requestedBy == "" {
		requestedBy = inv.InviterEmail
	}
	now := s.now()
	token := randomToken()
	t := InviteToken{Hash: HashToken(token), IssuedBy: requestedBy, IssueTime: now, ExpireTime: now.Add(s.inviteTTL)}
	if err := tx.SetInvitationToken(ctx, inv.ID, InviteEmailed, t); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s invited you to %s on Studio.\n\n"+
		"Open this link to accept (it works once, until %s; a newer invitation email replaces it):\n%s\n\n"+
		"The link was sent only to this address. If someone else already set a password for this address, "+
		"it lets you choose a new one.\n", requestedBy, where, t.ExpireTime.UTC().Format("2006-01-02 15:04 UTC"), s.inviteURL(token)), nil
}
