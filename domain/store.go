package domain

import (
	"context"
	"time"
)

// Store is the persistence the services need. Reads run on their own;
// changes run inside Update, in one transaction, together with their audit entry.
type Store interface {
	Reader
	Sessions
	// Update runs fn in one write transaction; an error from fn rolls it back.
	Update(ctx context.Context, fn func(Tx) error) error
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
}

// ProjectFilter selects the projects of a list.
type ProjectFilter struct {
	OrganizationID string // "" for every organization
	// Account limits the list to projects the account can read: its accepted
	// project memberships, and every project of organizations it administers.
	// The zero AccountRef lists every project (staff and internal use).
	Account AccountRef
	Query   string // case-insensitive substring of the display name
}

// AuditFilter selects audit entries. Empty fields select everything.
type AuditFilter struct {
	OrganizationID string
	ProjectID      string
	Actor          string // the actor's email or id
	Action         string
	Since, Until   time.Time
}

// Reader holds the lookups. A missing row is an ENOTFOUND *Error.
type Reader interface {
	CountUsers(ctx context.Context) (int, error)
	UserByID(ctx context.Context, id int64) (User, error)
	UserByEmail(ctx context.Context, email string) (User, error)

	OrganizationByID(ctx context.Context, id string) (Organization, error)
	// ListOrganizations lists, by display name, the organizations where the
	// account is organization admin or holds an accepted project membership.
	ListOrganizations(ctx context.Context, account AccountRef, after Cursor, limit int) ([]Organization, error)

	ProjectByID(ctx context.Context, id string) (Project, error)
	// ListProjects lists projects by display name (case-insensitive), then id.
	ListProjects(ctx context.Context, f ProjectFilter, after Cursor, limit int) ([]Project, error)
	// ProjectIsEmpty reports whether a project owns nothing that deleting it would destroy.
	ProjectIsEmpty(ctx context.Context, projectID string) (bool, error)

	// AccessIn returns the project and what the account holds in it
	// (accepted memberships only).
	AccessIn(ctx context.Context, account AccountRef, projectID string) (Access, error)
	// IsOrgAdmin reports whether the account holds an accepted organization admin membership.
	IsOrgAdmin(ctx context.Context, account AccountRef, orgID string) (bool, error)
	// RolesOf returns the account's accepted roles among the given projects
	// (role by project id) and organizations (those it administers).
	RolesOf(ctx context.Context, account AccountRef, projectIDs, orgIDs []string) (map[string]Role, map[string]bool, error)

	ServiceAccountByID(ctx context.Context, id string) (ServiceAccount, error)
	// ListServiceAccounts lists a project's service accounts by display name
	// (case-insensitive), then id, with their key counts.
	ListServiceAccounts(ctx context.Context, f ServiceAccountFilter, after Cursor, limit int) ([]ServiceAccount, error)
	KeyByID(ctx context.Context, id string) (Key, error)
	// ListKeys lists a service account's keys in creation order.
	ListKeys(ctx context.Context, serviceAccountID string, afterID string, limit int) ([]Key, error)
	CountKeys(ctx context.Context, serviceAccountID string) (int, error)
	// ProjectMembership returns the account's membership in a project, of any status.
	ProjectMembership(ctx context.Context, projectID string, account AccountRef) (Membership, error)
	// AccountMemberships lists up to limit memberships an account holds
	// anywhere: organization memberships first, then project memberships.
	AccountMemberships(ctx context.Context, account AccountRef, limit int) ([]Membership, error)

	ServiceAccountByEmail(ctx context.Context, email string) (ServiceAccount, error)
	// OrgMembership returns the account's membership in an organization, of any status.
	OrgMembership(ctx context.Context, orgID string, account AccountRef) (Membership, error)
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
	// InvitationByTokenHash finds the invitation whose shareable or emailed
	// link has this hash, and says which of the two it is.
	InvitationByTokenHash(ctx context.Context, tokenHash string) (Invitation, InviteKind, error)
	InvitationByID(ctx context.Context, id int64) (Invitation, error)
	// InvitationForMembership returns the invitation covering a membership.
	InvitationForMembership(ctx context.Context, m Membership) (Invitation, error)
	// UnsentOutbox returns up to limit messages not yet sent, oldest first.
	UnsentOutbox(ctx context.Context, limit int) ([]OutboxMessage, error)
	// FindAccounts finds users and service accounts whose id or email is
	// query, or whose email or display name (any case) starts with it.
	FindAccounts(ctx context.Context, query string, limit int) ([]AccountSummary, error)

	AccessTokenByHash(ctx context.Context, hash string) (AccessToken, error)

	// KeyPolicy returns an organization's key lifetime policy (the zero
	// policy when none was set).
	KeyPolicy(ctx context.Context, orgID string) (KeyPolicy, error)
	// ListExpiredKeys lists up to limit keys of the organization's service
	// accounts that are past their expiry or their rotation grace end at now.
	ListExpiredKeys(ctx context.Context, orgID string, now time.Time, limit int) ([]ExpiredKey, error)

	// ListAudit lists entries newest first, with ids below beforeID (0: from the newest).
	ListAudit(ctx context.Context, f AuditFilter, beforeID int64, limit int) ([]AuditEntry, error)

	// PasswordFailureTimes lists the times of up to limit password failures
	// selected by f at or after since, newest first.
	PasswordFailureTimes(ctx context.Context, f PasswordFailureFilter, since time.Time, limit int) ([]time.Time, error)
}

// Tx holds the changes, made inside Store.Update.
type Tx interface {
	Reader
	// CreateUser stores a user and sets its ID. A taken email is ECONFLICT.
	CreateUser(ctx context.Context, u *User) error
	SetPassword(ctx context.Context, userID int64, hash string, at time.Time) error
	SetLastSignIn(ctx context.Context, userID int64, at time.Time) error

	CreateOrganization(ctx context.Context, o Organization) error
	CreateProject(ctx context.Context, p Project) error
	UpdateProject(ctx context.Context, p Project) error
	DeleteProject(ctx context.Context, id string) error

	// CreateMembership stores a membership and sets its ID. The same account
	// in the same scope twice is ECONFLICT.
	CreateMembership(ctx context.Context, m *Membership) error

	SetMembershipRole(ctx context.Context, m Membership, role Role) error
	DeleteMembership(ctx context.Context, m Membership) error

	CreateServiceAccount(ctx context.Context, sa ServiceAccount) error
	UpdateServiceAccount(ctx context.Context, sa ServiceAccount) error
	// DeleteServiceAccount deletes the account with its keys and every membership.
	DeleteServiceAccount(ctx context.Context, id string) error
	CreateKey(ctx context.Context, k Key) error
	DeleteKey(ctx context.Context, id string) error

	// CreateInvitation stores an invitation (without links) and sets its ID.
	// A second invitation for the same membership is ECONFLICT.
	CreateInvitation(ctx context.Context, inv *Invitation) error
	// SetInvitationToken replaces the invitation's link of this kind.
	SetInvitationToken(ctx context.Context, invitationID int64, kind InviteKind, t InviteToken) error
	// CloseInvitation records the acceptance; its links stop working.
	CloseInvitation(ctx context.Context, invitationID int64, at time.Time) error
	// AcceptMembership makes one pending membership accepted.
	AcceptMembership(ctx context.Context, m Membership) error
	SetEmailVerified(ctx context.Context, userID int64) error
	SetUserName(ctx context.Context, userID int64, name string) error
	SetUserLocked(ctx context.Context, userID int64, locked bool) error
	// AddOutbox queues an email. An invitation email for an invitation that
	// already has one waiting is not queued twice: the waiting one is kept
	// (with the new RequestedBy).
	AddOutbox(ctx context.Context, m OutboxMessage) error
	// MarkOutboxSent records that a message went out and drops its body.
	MarkOutboxSent(ctx context.Context, id int64, at time.Time) error
	// DeleteOutbox drops a message that must not be sent any more.
	DeleteOutbox(ctx context.Context, id int64) error
	SetKeyLastUse(ctx context.Context, keyID string, at time.Time, how, from string) error
	// UpdateKeyLifecycle writes a key's disabled, compromised, expiry and
	// rotation fields.
	UpdateKeyLifecycle(ctx context.Context, k Key) error
	// DeleteKeyTokens deletes every access token of a key and counts them.
	DeleteKeyTokens(ctx context.Context, keyID string) (int, error)
	// DeleteAccountTokens deletes every access token of a service account's keys.
	DeleteAccountTokens(ctx context.Context, accountID string) (int, error)
	SetKeyPolicy(ctx context.Context, orgID string, pol KeyPolicy) error

	AddAudit(ctx context.Context, e AuditEntry) error

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
	// CreateAccessToken stores an issued token (outside any Update: it changes nothing else).
	CreateAccessToken(ctx context.Context, t AccessToken) error
}
