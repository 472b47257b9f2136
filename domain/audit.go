package domain

import (
	"context"
	"strconv"
	"time"
)

// Audit actions, as stored and shown.
const (
	ActionOrganizationCreate = "organization.create"
	ActionProjectCreate      = "project.create"
	ActionProjectUpdate      = "project.update"
	ActionProjectDelete      = "project.delete"
	ActionMembershipCreate   = "membership.create"
	ActionUserCreate         = "user.create"
	ActionPasswordChange     = "user.password_change"
	// Devices: labels changed, moved between projects, emulated ones made,
	// replaced and deleted.
	ActionDeviceLabels    = "device.labels"
	ActionDeviceTransfer  = "device.transfer"
	ActionEmulatorCreate  = "emulator.create"
	ActionEmulatorReplace = "emulator.update"
	ActionEmulatorDelete  = "emulator.delete"
)

// AuditActions lists every action the audit log records, for filters.
var AuditActions = []string{
	ActionOrganizationCreate, ActionProjectCreate, ActionProjectUpdate, ActionProjectDelete,
	ActionMembershipCreate, ActionMembershipUpdate, ActionMembershipDelete,
	ActionInvitationIssue, ActionInvitationAccept, ActionUserCreate, ActionPasswordChange,
	ActionUserLock, ActionUserUnlock, ActionSupportView,
	ActionServiceAccountCreate, ActionServiceAccountUpdate, ActionServiceAccountDelete,
	ActionKeyCreate, ActionKeyDelete, ActionBasicAuthEnable, ActionBasicAuthDisable,
	// Credential lifecycle.
	ActionKeyRotate, ActionKeyDisable, ActionKeyEnable, ActionKeyCompromised, ActionKeyPurge,
	ActionServiceAccountDisable, ActionServiceAccountEnable, ActionKeyPolicyUpdate,
	// Sign-in: second factors, policies, single sign-on.
	ActionTOTPEnable, ActionTOTPDisable, ActionRecoveryCodesNew, ActionPasskeyAdd, ActionPasskeyRemove,
	ActionSecondFactorReset, ActionSignInPolicyUpdate, ActionSSOUpdate, ActionSSODelete, ActionSSOLink,
	ActionSSOStaffException,
	// Devices.
	ActionDeviceLabels, ActionDeviceTransfer, ActionEmulatorCreate, ActionEmulatorReplace, ActionEmulatorDelete,
}

// auditEntry starts an entry for a change made by p now.
func auditEntry(p Principal, now time.Time, action, targetType, targetID, targetName string) AuditEntry {
	actorID := p.Account.ID
	if actorID == "" && p.UserID != 0 {
		actorID = strconv.FormatInt(p.UserID, 10)
	}
	actorType := p.Account.Type
	if actorType == "" {
		actorType = AccountUser
	}
	return AuditEntry{
		// Never marked as support here: being support staff says nothing of
		// what allowed a change (addSupportEntry decides for support's).
		Time: now, ActorType: actorType, ActorID: actorID, ActorEmail: p.Email,
		Action: action, TargetType: targetType, TargetID: targetID, TargetName: targetName,
		RemoteAddr: p.RemoteAddr,
	}
}

// System is the principal of changes the server makes itself (first start, demo data).
var System = Principal{Account: AccountRef{Type: AccountUser, ID: "system"}, Email: "system", RemoteAddr: "local"}

// AuditLog reads the audit log.
type AuditLog struct {
	store AuditLogStore
}

// AuditLogStore is the part of the store AuditLog uses.
type AuditLogStore interface {
	orgReader
	AuditReader
}

// NewAuditLog returns the audit log service.
func NewAuditLog(store AuditLogStore) *AuditLog { return &AuditLog{store: store} }

// ListOrganization lists an organization's entries, newest first, with
// filters. Only its organization admins may read it.
func (a *AuditLog) ListOrganization(ctx context.Context, p Principal, orgID string, f AuditFilter, req PageRequest) (Page[AuditEntry], error) {
	if _, err := requireOrgAdmin(ctx, a.store, p, orgID); err != nil {
		return Page[AuditEntry]{}, err
	}
	f.OrganizationID = orgID
	return listAudit(ctx, a.store, f, req)
}
