package domain

import (
	"context"
	"time"
)

// The store is declared in pieces, one per topic: each service declares
// the pieces it uses (beside the service), and a store (SQLite today, a
// second engine next) implements and tests them piece by piece. Reads run
// on their own; changes run inside Update, in one transaction, together
// with their audit entry, on a Tx that holds every piece.

// Store is the whole store: every piece, sessions, access tokens, and the
// database's health.
type Store interface {
	Reader
	Sessions
	AccessTokens
	Updater
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
}

// Updater runs changes.
type Updater interface {
	// Update runs fn in one write transaction; an error from fn rolls it back.
	Update(ctx context.Context, fn func(Tx) error) error
}

// ProjectFilter selects the projects of a list.
type ProjectFilter struct {
	OrganizationID string // "" for every organization
	// Account limits the list to projects the account can read: its accepted
	// project memberships, and every project of organizations it administers.
	// The zero AccountRef lists every project (staff and internal use).
	Account AccountRef
	Query   string // case-insensitive substring of the display name
	// Labels keeps the projects that have every one of these labels.
	Labels []LabelFilter
}

// AuditFilter selects audit entries. Empty fields select everything.
type AuditFilter struct {
	OrganizationID string
	ProjectID      string
	Actor          string // the actor's email or id
	Action         string
	Since, Until   time.Time
}

// Reader holds every lookup. A missing row is an ENOTFOUND *Error.
type Reader interface {
	UserReader
	OrganizationReader
	ProjectReader
	AccessReader
	ServiceAccountReader
	KeyReader
	MembershipReader
	InvitationReader
	OutboxReader
	AccountFinder
	AccessTokenReader
	AuditReader
	PasswordFailureReader
	DeviceReader
	EventReader
}

// UserReader looks people up.
type UserReader interface {
	CountUsers(ctx context.Context) (int, error)
	UserByID(ctx context.Context, id int64) (User, error)
	UserByEmail(ctx context.Context, email string) (User, error)
}

// OrganizationReader looks organizations up.
type OrganizationReader interface {
	OrganizationByID(ctx context.Context, id string) (Organization, error)
	// ListOrganizations lists, by display name, the organizations where the
	// account is organization admin or holds an accepted project membership.
	ListOrganizations(ctx context.Context, account AccountRef, after Cursor, limit int) ([]Organization, error)
}

// ProjectReader looks projects up.
type ProjectReader interface {
	ProjectByID(ctx context.Context, id string) (Project, error)
	// ListProjects lists projects by display name (case-insensitive), then id.
	ListProjects(ctx context.Context, f ProjectFilter, after Cursor, limit int) ([]Project, error)
	// ProjectIsEmpty reports whether a project owns nothing that deleting it would destroy.
	ProjectIsEmpty(ctx context.Context, projectID string) (bool, error)
}

// AccessReader reads what an account holds: the input of every permission decision.
type AccessReader interface {
	// AccessIn returns the project and what the account holds in it
	// (accepted memberships only).
	AccessIn(ctx context.Context, account AccountRef, projectID string) (Access, error)
	// IsOrgAdmin reports whether the account holds an accepted organization admin membership.
	IsOrgAdmin(ctx context.Context, account AccountRef, orgID string) (bool, error)
	// RolesOf returns the account's accepted roles among the given projects
	// (role by project id) and organizations (those it administers).
	RolesOf(ctx context.Context, account AccountRef, projectIDs, orgIDs []string) (map[string]Role, map[string]bool, error)
}

// ServiceAccountReader looks service accounts up.
type ServiceAccountReader interface {
	ServiceAccountByID(ctx context.Context, id string) (ServiceAccount, error)
	ServiceAccountByEmail(ctx context.Context, email string) (ServiceAccount, error)
	// ListServiceAccounts lists a project's service accounts by display name
	// (case-insensitive), then id, with their key counts.
	ListServiceAccounts(ctx context.Context, f ServiceAccountFilter, after Cursor, limit int) ([]ServiceAccount, error)
}

// KeyReader looks keys and key policies up.
type KeyReader interface {
	KeyByID(ctx context.Context, id string) (Key, error)
	// ListKeys lists a service account's keys in creation order.
	ListKeys(ctx context.Context, serviceAccountID string, afterID string, limit int) ([]Key, error)
	CountKeys(ctx context.Context, serviceAccountID string) (int, error)
	// KeyPolicy returns an organization's key lifetime policy (the zero
	// policy when none was set).
	KeyPolicy(ctx context.Context, orgID string) (KeyPolicy, error)
	// ListExpiredKeys lists up to limit keys of the organization's service
	// accounts that are past their expiry or their rotation grace end at now.
	ListExpiredKeys(ctx context.Context, orgID string, now time.Time, limit int) ([]ExpiredKey, error)
}

// MembershipReader looks memberships up.
type MembershipReader interface {
	// ProjectMembership returns the account's membership in a project, of any status.
	ProjectMembership(ctx context.Context, projectID string, account AccountRef) (Membership, error)
	// OrgMembership returns the account's membership in an organization, of any status.
	OrgMembership(ctx context.Context, orgID string, account AccountRef) (Membership, error)
	// AccountMemberships lists up to limit memberships an account holds
	// anywhere: organization memberships first, then project memberships.
	AccountMemberships(ctx context.Context, account AccountRef, limit int) ([]Membership, error)
	// ListProjectMembers lists a project's memberships in id order, with the
	// accounts' emails and names; query matches part of either.
	ListProjectMembers(ctx context.Context, projectID, query string, afterID int64, limit int) ([]Membership, error)
	// ListOrgMembers lists an organization's memberships in id order.
	ListOrgMembers(ctx context.Context, orgID string, afterID int64, limit int) ([]Membership, error)
	// CountOrgUserAdmins counts the accepted organization admins that are users.
	CountOrgUserAdmins(ctx context.Context, orgID string) (int, error)
	// AccountProjectMemberships lists the account's memberships in the
	// organization's projects.
	AccountProjectMemberships(ctx context.Context, orgID string, account AccountRef) ([]Membership, error)
}

// InvitationReader looks invitations up.
type InvitationReader interface {
	// InvitationByTokenHash finds the invitation whose shareable or emailed
	// link has this hash, and says which of the two it is.
	InvitationByTokenHash(ctx context.Context, tokenHash string) (Invitation, InviteKind, error)
	InvitationByID(ctx context.Context, id int64) (Invitation, error)
	// InvitationForMembership returns the invitation covering a membership.
	InvitationForMembership(ctx context.Context, m Membership) (Invitation, error)
}

// OutboxReader reads the emails waiting to be sent.
type OutboxReader interface {
	// UnsentOutbox returns up to limit messages not yet sent, oldest first.
	UnsentOutbox(ctx context.Context, limit int) ([]OutboxMessage, error)
}

// AccountFinder searches accounts of both types, for support staff.
type AccountFinder interface {
	// FindAccounts finds users and service accounts whose id or email is
	// query, or whose email or display name (any case) starts with it.
	FindAccounts(ctx context.Context, query string, limit int) ([]AccountSummary, error)
}

// AccessTokenReader looks issued access tokens up.
type AccessTokenReader interface {
	AccessTokenByHash(ctx context.Context, hash string) (AccessToken, error)
}

// AuditReader reads the audit log.
type AuditReader interface {
	// ListAudit lists entries newest first, with ids below beforeID (0: from the newest).
	ListAudit(ctx context.Context, f AuditFilter, beforeID int64, limit int) ([]AuditEntry, error)
}

// PasswordFailureReader reads recent wrong passwords.
type PasswordFailureReader interface {
	// PasswordFailureTimes lists the times of up to limit password failures
	// selected by f at or after since, newest first.
	PasswordFailureTimes(ctx context.Context, f PasswordFailureFilter, since time.Time, limit int) ([]time.Time, error)
}

// Tx holds the changes, made inside Store.Update, beside every lookup.
type Tx interface {
	Reader
	UserWriter
	ProjectWriter
	MembershipWriter
	ServiceAccountWriter
	KeyWriter
	InvitationWriter
	OutboxWriter
	AuditWriter
	PasswordFailureWriter
	DeviceWriter
	EventWriter
}

// UserWriter changes people.
type UserWriter interface {
	// CreateUser stores a user and sets its ID. A taken email is ECONFLICT.
	CreateUser(ctx context.Context, u *User) error
	SetPassword(ctx context.Context, userID int64, hash string, at time.Time) error
	SetLastSignIn(ctx context.Context, userID int64, at time.Time) error
	SetEmailVerified(ctx context.Context, userID int64) error
	SetUserName(ctx context.Context, userID int64, name string) error
	SetUserLocked(ctx context.Context, userID int64, locked bool) error
}

// ProjectWriter changes organizations and projects.
type ProjectWriter interface {
	CreateOrganization(ctx context.Context, o Organization) error
	CreateProject(ctx context.Context, p Project) error
	UpdateProject(ctx context.Context, p Project) error
	// SetProjectLabels replaces a project's labels.
	SetProjectLabels(ctx context.Context, projectID string, labels map[string]string) error
	DeleteProject(ctx context.Context, id string) error
}

// MembershipWriter changes memberships.
type MembershipWriter interface {
	// CreateMembership stores a membership and sets its ID. The same account
	// in the same scope twice is ECONFLICT.
	CreateMembership(ctx context.Context, m *Membership) error
	SetMembershipRole(ctx context.Context, m Membership, role Role) error
	DeleteMembership(ctx context.Context, m Membership) error
	// AcceptMembership makes one pending membership accepted.
	AcceptMembership(ctx context.Context, m Membership) error
}

// ServiceAccountWriter changes service accounts.
type ServiceAccountWriter interface {
	CreateServiceAccount(ctx context.Context, sa ServiceAccount) error
	UpdateServiceAccount(ctx context.Context, sa ServiceAccount) error
	// DeleteServiceAccount deletes the account with its keys and every membership.
	DeleteServiceAccount(ctx context.Context, id string) error
	// DeleteAccountTokens deletes every access token of a service account's keys.
	DeleteAccountTokens(ctx context.Context, accountID string) (int, error)
}

// KeyWriter changes keys and key policies.
type KeyWriter interface {
	CreateKey(ctx context.Context, k Key) error
	DeleteKey(ctx context.Context, id string) error
	SetKeyLastUse(ctx context.Context, keyID string, at time.Time, how, from string) error
	// UpdateKeyLifecycle writes a key's disabled, compromised, expiry and
	// rotation fields.
	UpdateKeyLifecycle(ctx context.Context, k Key) error
	// DeleteKeyTokens deletes every access token of a key and counts them.
	DeleteKeyTokens(ctx context.Context, keyID string) (int, error)
	SetKeyPolicy(ctx context.Context, orgID string, pol KeyPolicy) error
}

// InvitationWriter changes invitations.
type InvitationWriter interface {
	// CreateInvitation stores an invitation (without links) and sets its ID.
	// A second invitation for the same membership is ECONFLICT.
	CreateInvitation(ctx context.Context, inv *Invitation) error
	// SetInvitationToken replaces the invitation's link of this kind.
	SetInvitationToken(ctx context.Context, invitationID int64, kind InviteKind, t InviteToken) error
	// CloseInvitation records the acceptance; its links stop working.
	CloseInvitation(ctx context.Context, invitationID int64, at time.Time) error
}

// OutboxWriter changes the emails waiting to be sent.
type OutboxWriter interface {
	// AddOutbox queues an email. An invitation email for an invitation that
	// already has one waiting is not queued twice: the waiting one is kept
	// (with the new RequestedBy).
	AddOutbox(ctx context.Context, m OutboxMessage) error
	// MarkOutboxSent records that a message went out and drops its body.
	MarkOutboxSent(ctx context.Context, id int64, at time.Time) error
	// DeleteOutbox drops a message that must not be sent any more.
	DeleteOutbox(ctx context.Context, id int64) error
}

// AuditWriter writes the audit log.
type AuditWriter interface {
	AddAudit(ctx context.Context, e AuditEntry) error
}

// PasswordFailureWriter records wrong passwords.
type PasswordFailureWriter interface {
	// AddPasswordFailure records a wrong password, counts it in its user's
	// failed attempts (when f.UserID is set), and forgets a bounded batch of
	// failures older than forgetBefore.
	AddPasswordFailure(ctx context.Context, f PasswordFailure, forgetBefore time.Time) error
	// ForgetPasswordFailures deletes one client's failures on one account.
	ForgetPasswordFailures(ctx context.Context, account, client string) error
	// TakeFailedAttempts returns the user's failed attempts since the last
	// sign-in and counts from zero again.
	TakeFailedAttempts(ctx context.Context, userID int64) (FailedAttempts, error)
}

// AccountSummary is an account of either type as a search shows it.
type AccountSummary struct {
	Account     AccountRef
	Email       string
	DisplayName string
	// ProjectID is the owning project of a service account.
	ProjectID string
}

// ServiceAccountFilter selects the service accounts of a list.
type ServiceAccountFilter struct {
	ProjectID string
	Query     string // case-insensitive substring of the display name or email
}

// Session is a signed-in console session, stored server-side. Only a hash
// of its id is kept, so a copy of the database holds no usable session.
type Session struct {
	IDHash     string
	UserID     int64
	Data       []byte
	CreateTime time.Time
	LastSeen   time.Time
}

// Sessions stores console sessions.
type Sessions interface {
	CreateSession(ctx context.Context, s Session) error
	SessionByHash(ctx context.Context, idHash string) (Session, error)
	UpdateSession(ctx context.Context, idHash string, data []byte, lastSeen time.Time) error
	DeleteSession(ctx context.Context, idHash string) error
	// DeleteUserSessions removes every session of a user except keepIDHash ("" keeps none).
	DeleteUserSessions(ctx context.Context, userID int64, keepIDHash string) error
}

// SessionEnder ends a user's sessions: what services need of Sessions
// (after a password change, a lock, an account taken back).
type SessionEnder interface {
	DeleteUserSessions(ctx context.Context, userID int64, keepIDHash string) error
}

// AccessTokens stores the bearer tokens the token endpoint issues.
type AccessTokens interface {
	AccessTokenReader
	// CreateAccessToken stores an issued token (outside any Update: it changes nothing else).
	CreateAccessToken(ctx context.Context, t AccessToken) error
}
