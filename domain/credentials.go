package domain

import (
	"context"
	"fmt"
	"time"
)

// Credential state changes. Every path that disables or enables a key or
// a service account, switches Basic Auth off, deletes a key or deletes a
// service account does it through these functions, inside its own write
// transaction: the account's owner (ServiceAccounts), support staff
// (Support) and the bulk actions of the hygiene view (Hygiene). The paths
// differ only in who acts, why, and how their audit entry reads
// (credentialAudit); the change itself, its rules and its audit action are
// written once, here.

// credentialAudit is how one path records a credential change.
type credentialAudit struct {
	// Entry is the path's start of the entry: actor, target, where, why.
	// The change sets Action (Basic Auth off keeps a preset one) and Detail.
	Entry AuditEntry
	// Note ends the detail, such as " (credential hygiene, bulk)".
	Note string
	// NoDetail leaves the detail of account changes empty.
	NoDetail bool
	// Support is the staff member of a change made through the support
	// console or the global hygiene view: the entry is marked as a
	// support action unless a role they hold there allows the change.
	Support *Principal
}

func (c credentialAudit) add(ctx context.Context, tx Tx, action, detail string) error {
	e := c.Entry
	if e.Action == "" {
		e.Action = action
	}
	e.Detail = detail + c.Note
	if c.Support != nil {
		return addSupportEntry(ctx, tx, *c.Support, e, supportPerm[e.Action])
	}
	return tx.AddAudit(ctx, e)
}

// keyEntry names the key as the entry's target.
func (c credentialAudit) keyEntry(k Key, sa ServiceAccount) credentialAudit {
	c.Entry.TargetType, c.Entry.TargetID, c.Entry.TargetName = "key", k.ID, sa.Email
	c.NoDetail = false
	return c
}

// setKeyDisabled disables a key at now, or enables it again, and deletes
// its access tokens either way: a token issued before a disable never
// works again, even once the key is enabled. (A disabled key gets no new
// token, so every token left at an enable dates from before the disable:
// one stored by an exchange that checked the key just before the disable
// and wrote just after, or one kept by an older version.)
func setKeyDisabled(ctx context.Context, tx Tx, k *Key, disabled bool, now time.Time) error {
	k.DisabledTime = time.Time{}
	if disabled {
		k.DisabledTime = now
	}
	if err := tx.UpdateKeyLifecycle(ctx, *k); err != nil {
		return err
	}
	_, err := tx.DeleteKeyTokens(ctx, k.ID)
	return err
}

// setAccountDisabled is setKeyDisabled for a whole service account and
// the access tokens of all its keys.
func setAccountDisabled(ctx context.Context, tx Tx, sa *ServiceAccount, disabled bool, now time.Time) error {
	sa.DisabledTime, sa.UpdateTime = time.Time{}, now
	if disabled {
		sa.DisabledTime = now
	}
	if err := tx.UpdateServiceAccount(ctx, *sa); err != nil {
		return err
	}
	_, err := tx.DeleteAccountTokens(ctx, sa.ID)
	return err
}

// changeKeyState disables a key of sa (refused on the next request: Basic
// Auth, token exchange and tokens already issued, which never work again)
// or enables it again, and records it. A key reported compromised cannot
// be enabled; a key already in the state asked for is left as it is, with
// no entry (changed is false).
func changeKeyState(ctx context.Context, tx Tx, k *Key, sa ServiceAccount, disabled bool, now time.Time, audit credentialAudit) (changed bool, err error) {
	if !disabled && !k.CompromisedTime.IsZero() {
		return false, Errorf(EINVALID, "Key %s was reported compromised: it cannot be enabled again. Create a new key instead.", k.ID)
	}
	if disabled == !k.DisabledTime.IsZero() {
		return false, nil
	}
	if err := setKeyDisabled(ctx, tx, k, disabled, now); err != nil {
		return false, err
	}
	action := ActionKeyEnable
	if disabled {
		action = ActionKeyDisable
	}
	return true, audit.keyEntry(*k, sa).add(ctx, tx, action, "key "+k.ID)
}

// changeAccountState disables a whole service account (every key and
// token refused on the next request; its tokens never work again) or
// enables it again, and records it; an account already in the state asked
// for is left as it is (changed is false).
func changeAccountState(ctx context.Context, tx Tx, sa *ServiceAccount, disabled bool, now time.Time, audit credentialAudit) (changed bool, err error) {
	if disabled == sa.Disabled() {
		return false, nil
	}
	if err := setAccountDisabled(ctx, tx, sa, disabled, now); err != nil {
		return false, err
	}
	action := ActionServiceAccountEnable
	if disabled {
		action = ActionServiceAccountDisable
	}
	return true, audit.add(ctx, tx, action, audit.detail(sa.Email))
}

// detail is an account change's detail, unless the path records none.
func (c credentialAudit) detail(d string) string {
	if c.NoDetail {
		return ""
	}
	return d
}

// switchBasicAuthOff switches Basic Auth off for a service account and
// records it (ActionBasicAuthDisable);
// an account with Basic Auth off already is left as it is.
func switchBasicAuthOff(ctx context.Context, tx Tx, sa *ServiceAccount, now time.Time, audit credentialAudit) (changed bool, err error) {
	if !sa.EnableBasicAuth {
		return false, nil
	}
	sa.EnableBasicAuth, sa.UpdateTime = false, now
	if err := tx.UpdateServiceAccount(ctx, *sa); err != nil {
		return false, err
	}
	return true, audit.add(ctx, tx, ActionBasicAuthDisable, audit.detail("Basic Auth off"))
}

// deleteKey deletes a key of sa (its tokens go with it) and records it.
func deleteKey(ctx context.Context, tx Tx, k Key, sa ServiceAccount, audit credentialAudit) error {
	if err := tx.DeleteKey(ctx, k.ID); err != nil {
		return err
	}
	return audit.keyEntry(k, sa).add(ctx, tx, ActionKeyDelete, "key "+k.ID)
}

// deleteAccount deletes a service account with its keys (and their
// tokens) and every membership it holds, and records how many keys went.
func deleteAccount(ctx context.Context, tx Tx, sa ServiceAccount, audit credentialAudit) error {
	keys, err := tx.CountKeys(ctx, sa.ID)
	if err != nil {
		return err
	}
	if err := tx.DeleteServiceAccount(ctx, sa.ID); err != nil {
		return err
	}
	return audit.add(ctx, tx, ActionServiceAccountDelete, fmt.Sprintf("%s; %d key%s deleted with it", sa.Email, keys, plural(keys)))
}
