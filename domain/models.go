package domain

import "time"

// Organization holds projects.
type Organization struct {
	ID          string
	DisplayName string
	CreateTime  time.Time
}

// Location is a project's optional place. The coordinates are nil when
// none were given (never 0, which is a place in the Gulf of Guinea); both
// are set or neither.
type Location struct {
	Latitude     *float64
	Longitude    *float64
	TimeLocation string
}

// Equal reports whether two locations are the same place and zone.
func (l Location) Equal(o Location) bool {
	same := func(a, b *float64) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }
	return same(l.Latitude, o.Latitude) && same(l.Longitude, o.Longitude) && l.TimeLocation == o.TimeLocation
}

// Project belongs to one organization. The inventory project is made with
// its organization and cannot be deleted.
type Project struct {
	ID                      string
	OrganizationID          string
	OrganizationDisplayName string
	DisplayName             string
	Inventory               bool
	Location                Location
	// Labels are the project's key → value tags (see labels.go); never nil
	// when read from the store.
	Labels     map[string]string
	CreateTime time.Time
	UpdateTime time.Time
	// SensorCount and CloudConnectorCount count the project's devices by
	// kind (emulated ones included).
	SensorCount         int
	CloudConnectorCount int
}

// User is a person who signs in to the console. Staff marks platform
// support staff, which is separate from any organization role.
type User struct {
	ID           int64
	Email        string
	DisplayName  string
	PasswordHash string // empty for a pending (invited, not yet accepted) user
	Staff        bool
	Locked       bool
	CreateTime   time.Time
	LastSignIn   time.Time // zero when never
	// PasswordChanged is when the password was last set; sessions made
	// before it are no longer valid.
	PasswordChanged time.Time
	// EmailVerified: the person proved they read mail at Email (they set
	// their password through an emailed invite link), or the system made
	// the account (first administrator, demo users). See Invitation.
	EmailVerified bool
}

// Pending reports whether the user was invited and has not set a password.
func (u User) Pending() bool { return u.PasswordHash == "" }

// AccountType says what kind of account a membership or principal is.
type AccountType string

const (
	AccountUser           AccountType = "USER"
	AccountServiceAccount AccountType = "SERVICE_ACCOUNT"
)

// MembershipStatus is PENDING until the invited account accepts.
type MembershipStatus string

const (
	StatusPending  MembershipStatus = "PENDING"
	StatusAccepted MembershipStatus = "ACCEPTED"
)

// AccountRef names an account of either type. ID is the numeric user id as a
// string, or the service account's id.
type AccountRef struct {
	Type AccountType
	ID   string
}

// Membership gives one account one role in one project, or in one
// organization (ProjectID empty).
type Membership struct {
	ID             int64
	OrganizationID string
	ProjectID      string // empty for an organization membership
	Account        AccountRef
	Role           Role
	Status         MembershipStatus
	CreateTime     time.Time
	// Filled on reads for display.
	AccountEmail            string
	AccountDisplayName      string
	OrganizationDisplayName string
	ProjectDisplayName      string
}

// Principal is who acts: a signed-in user or an authenticated service account.
type Principal struct {
	Account    AccountRef
	UserID     int64 // set for users
	Email      string
	Staff      bool
	RemoteAddr string
	// Console marks a person acting through a console session, and
	// AuthTime is when they last proved their password in it (zero: not
	// in this session). Such a person is asked for the password again
	// before the changes of sensitive (see reauth.go) once it is older
	// than ReauthAfter. Programs and the command line have no password
	// to give and are never asked.
	Console  bool
	AuthTime time.Time
	// AuthConfirmed tells that AuthTime is a confirmation of the password
	// after signing in, not the sign-in itself (for the prompt's wording).
	AuthConfirmed bool
	// SecondFactor marks a console session in which the person proved a
	// second factor (a code, or a passkey, which is two factors in one);
	// SSOOrganizations are the organizations whose identity provider
	// signed this session in. Organization sign-in policies and the
	// support console ask for them (see secondfactor.go).
	SecondFactor     bool
	SSOOrganizations []string
}

// IsUser reports whether the principal is a signed-in person.
func (p Principal) IsUser() bool { return p.Account.Type == AccountUser && p.UserID != 0 }

// AuditEntry records one change: who, what, which resource, where, when,
// from where and why.
type AuditEntry struct {
	ID             int64
	Time           time.Time
	ActorType      AccountType
	ActorID        string
	ActorEmail     string
	ActorStaff     bool
	Action         string
	TargetType     string
	TargetID       string
	TargetName     string
	OrganizationID string
	ProjectID      string
	RemoteAddr     string
	Reason         string
	Detail         string
	// OrganizationName and ProjectName are filled by reads, for people:
	// the names now, empty once deleted.
	OrganizationName string
	ProjectName      string
}

// ServiceAccount is a non-person account owned by one project. Its email is
// made by the system and never changes.
type ServiceAccount struct {
	ID              string
	ProjectID       string
	Email           string
	DisplayName     string
	EnableBasicAuth bool
	CreateTime      time.Time
	UpdateTime      time.Time
	// DisabledTime is when the account was disabled (zero: enabled). A
	// disabled account is refused on every path, with all its keys and tokens.
	DisabledTime time.Time
	// KeyCount is filled by lists.
	KeyCount int
}

// Disabled reports whether the account is disabled.
func (sa ServiceAccount) Disabled() bool { return !sa.DisabledTime.IsZero() }

// Ref names the service account as an account.
func (sa ServiceAccount) Ref() AccountRef { return AccountRef{Type: AccountServiceAccount, ID: sa.ID} }

// Key is a service account's credential. Sealed is the secret, encrypted
// with the server key; the plain secret is shown once, at creation.
type Key struct {
	ID               string
	ServiceAccountID string
	Sealed           []byte
	CreateTime       time.Time
	// LastUsed is when the key last authenticated (zero: never), how
	// (UsedBasic or UsedToken) and from which address.
	LastUsed     time.Time
	LastUsedVia  string
	LastUsedFrom string
	// Lifecycle (see Key.Status): DisabledTime zero means enabled;
	// CompromisedTime is set when the key was reported compromised (it is
	// disabled for good); ExpireTime zero means never; RotatedTo names the
	// key that replaced this one, which keeps working until GraceEnd.
	DisabledTime    time.Time
	CompromisedTime time.Time
	ExpireTime      time.Time
	RotatedTo       string
	GraceEnd        time.Time
}

// MaxKeysPerAccount is the contract's limit.
const MaxKeysPerAccount = 10

// Invitation asks one person to accept one membership.
//
// The model, for an email that several organizations invite:
//   - A users row is one identity per email, shared by every organization
//     (the API's numeric member ids name it). It is not the invitation.
//   - An Invitation is bound to exactly one membership (a project or an
//     organization membership) of one organization, made by one inviter, and
//     dies with that membership. Accepting it accepts that membership only:
//     never another organization's, never one created after the link.
//   - It has two links, stored only as hashes: the shareable link, handed to
//     the inviter (console, :getInviteUrl), and the emailed link, minted when
//     the invitation email is sent. Issuing a new link of a kind ends the
//     previous link of that kind.
//   - Who opens a link proves nothing about the address: only the emailed
//     link does (it reached the mailbox). So a user who set their password
//     through a shareable link has an unverified email, and another
//     organization (one where the account holds no accepted membership yet)
//     adding that email gets a PENDING membership with its own invitation,
//     which the account must accept by signing in through its link; a user
//     with a verified email is ACCEPTED at once, as the contract says. An emailed
//     link of an unverified account may set a new password: the mailbox
//     owner takes the address back from whoever claimed it by a shared link.
type Invitation struct {
	ID             int64
	UserID         int64
	OrganizationID string
	ProjectID      string // "" for an organization membership
	// MembershipID is the id of the project membership (ProjectID set) or
	// of the organization membership it covers.
	MembershipID int64
	Inviter      AccountRef
	InviterEmail string
	CreateTime   time.Time
	AcceptTime   time.Time // zero while open
	Shareable    InviteToken
	Emailed      InviteToken
}

// InviteKind says which link of an invitation was used.
type InviteKind string

const (
	InviteShareable InviteKind = "shareable"
	InviteEmailed   InviteKind = "emailed"
)

// Token returns the invitation's link of this kind.
func (inv Invitation) Token(kind InviteKind) InviteToken {
	if kind == InviteEmailed {
		return inv.Emailed
	}
	return inv.Shareable
}

// InviteToken is one link of an invitation. Only a hash of its token is
// stored; Hash is "" while none was issued.
type InviteToken struct {
	Hash       string
	IssuedBy   string // email of whoever issued it
	IssueTime  time.Time
	ExpireTime time.Time
}

// OutboxMessage is an email waiting to be sent (or kept, when no SMTP server
// is configured, for an administrator to read).
//
// An invitation email is stored with InvitationID and no Body: the body,
// with a newly minted emailed link, is built only when it is sent, so the
// table never holds a usable link. Sending empties every body.
type OutboxMessage struct {
	ID           int64
	To           string
	Subject      string
	Body         string
	InvitationID int64  // 0 for an email that is not an invitation
	RequestedBy  string // email of whoever asked for the invitation email
	CreateTime   time.Time
	SentTime     time.Time
}
