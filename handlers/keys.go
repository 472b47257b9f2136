package handlers

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"studio/domain"
	"studio/views"

	"github.com/labstack/echo/v4"
)

// Keys of a service account, on its page: create (the secret shown once),
// rotate, disable and enable, report compromised, delete; and the
// account's own disable and enable.

// keyOptions reads the create form's expiry choice: "" for the
// organization's default, "never", or a number of days such as "90d".
func keyOptions(choice string, now time.Time) (domain.KeyOptions, error) {
	switch choice = strings.TrimSpace(choice); choice {
	case "":
		return domain.KeyOptions{}, nil
	case "never":
		return domain.KeyOptions{Never: true}, nil
	}
	d, err := domain.ParseLifetime(choice)
	if err != nil {
		return domain.KeyOptions{}, domain.FieldError("expires", "Choose when the key expires.")
	}
	return domain.KeyOptions{ExpireTime: now.Add(d)}, nil
}

// rotationGraces are the grace periods the rotate form offers.
var rotationGraces = map[string]time.Duration{"now": 0, "1h": time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour}

// badInput answers a form for op on the page's account that cannot be
// sent to the service as it is: who may not do op gets the refusal the
// service would give (and learns nothing of the form), anyone else gets
// err. A good form goes to the service, which authorizes it once.
func (h *Handlers) badInput(c echo.Context, op domain.Operation, err error) error {
	if aerr := h.serviceAccounts.Authorize(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa"), op); aerr != nil {
		return aerr
	}
	return err
}

// RotateKey makes a new key (its secret shown once, as at creation) and
// gives the old one the chosen grace period.
func (h *Handlers) RotateKey(c echo.Context) error {
	grace, ok := rotationGraces[c.FormValue("grace")]
	if !ok {
		if err := h.badInput(c, domain.OpKeyRotate, nil); err != nil {
			return err
		}
		return h.renderKeys(c, nil, nil, domain.FieldError("grace", "Choose how long the old key keeps working: 1 hour, 24 hours, 7 days or not at all."))
	}
	var o domain.AccountOverview
	rot, err := h.serviceAccounts.RotateKey(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa"), c.Param("key"), grace, refresh(&o))
	switch {
	case isInvalid(err):
		return h.renderKeys(c, nil, nil, err)
	case err != nil:
		return err
	}
	old := rot.Old
	return h.renderKeys(c, &o, &views.NewKeyDialog{KeyID: rot.New.ID, Secret: rot.Secret, ExpireTime: rot.New.ExpireTime, Rotated: &old}, nil)
}

// DisableKey disables a key: refused on its next request, tokens included.
func (h *Handlers) DisableKey(c echo.Context) error { return h.setKeyDisabled(c, true) }

// EnableKey enables a disabled key again.
func (h *Handlers) EnableKey(c echo.Context) error { return h.setKeyDisabled(c, false) }

func (h *Handlers) setKeyDisabled(c echo.Context, disabled bool) error {
	if c.FormValue("confirm") != "yes" {
		return h.badInput(c, domain.OpKeyDisable, domain.FieldError("confirm", "Confirm the change of the key."))
	}
	var o domain.AccountOverview
	k, err := h.serviceAccounts.SetKeyDisabled(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa"), c.Param("key"), disabled,
		refreshFragment(c, &o)...)
	if err != nil {
		return err
	}
	msg := "Key " + k.ID + " is enabled again."
	if disabled {
		msg = "Key " + k.ID + " is disabled: programs using it are refused."
	}
	return h.afterAccountChange(c, msg, o, views.AccountKeys)
}

// ReportCompromisedPage shows what the key can reach and asks why it is reported.
func (h *Handlers) ReportCompromisedPage(c echo.Context) error {
	return h.renderCompromiseForm(c, http.StatusOK, "", nil)
}

func (h *Handlers) renderCompromiseForm(c echo.Context, status int, reason string, errs map[string]string) error {
	a, err := h.loadAccount(c)
	if err != nil {
		return err
	}
	if err := a.View.Access.Authorize(domain.OpKeyReportCompromised); err != nil {
		return err
	}
	k, err := h.serviceAccounts.GetKey(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa"), c.Param("key"))
	if err != nil {
		return err
	}
	return render(c, status, views.ReportCompromised(h.accountPage(c, a), views.CompromiseForm{Account: a, Key: k, Reason: reason, Errors: errs}))
}

// ReportCompromised disables the key at once, records the report with its
// reason, and shows what the key could reach.
func (h *Handlers) ReportCompromised(c echo.Context) error {
	// The service refuses who may not report before it reads the reason.
	reason := c.FormValue("reason")
	var o domain.AccountOverview
	rep, err := h.serviceAccounts.ReportKeyCompromised(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa"), c.Param("key"), reason,
		refresh(&o))
	if isInvalid(err) {
		errs := domain.FieldErrors(err)
		if len(errs) == 0 {
			errs = map[string]string{"reason": domain.ErrorMessage(err)}
		}
		return h.renderCompromiseForm(c, http.StatusUnprocessableEntity, reason, errs)
	}
	if err != nil {
		return err
	}
	a := h.accountPageOf(o)
	Logger(c).Warn("key reported compromised", "key_id", rep.Key.ID, "service_account_id", rep.Account.ID)
	return render(c, http.StatusOK, views.CompromiseDone(h.accountPage(c, a), a, rep))
}

// DisableServiceAccount disables a whole account: every key and token refused.
func (h *Handlers) DisableServiceAccount(c echo.Context) error { return h.setAccountDisabled(c, true) }

// EnableServiceAccount enables a disabled account again.
func (h *Handlers) EnableServiceAccount(c echo.Context) error { return h.setAccountDisabled(c, false) }

func (h *Handlers) setAccountDisabled(c echo.Context, disabled bool) error {
	if c.FormValue("confirm") != "yes" {
		return h.badInput(c, domain.OpServiceAccountUpdate, domain.FieldError("confirm", "Confirm the change of the account."))
	}
	sa, err := h.serviceAccounts.SetAccountDisabled(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa"), disabled)
	if err != nil {
		return err
	}
	msg := "“" + sa.DisplayName + "” is enabled again: its working keys are accepted."
	if disabled {
		msg = "“" + sa.DisplayName + "” is disabled: all its keys and tokens are refused."
	}
	h.setFlash(c, "success", msg)
	return redirect(c, accountURL(sa))
}

// CreateKey makes a key and shows its secret once, in this response only:
// never stored in the session, the URL, a cache or htmx's history.
func (h *Handlers) CreateKey(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	opts, err := keyOptions(c.FormValue("expires"), h.serviceAccounts.Now())
	if err != nil {
		if aerr := h.badInput(c, domain.OpKeyCreate, nil); aerr != nil {
			return aerr
		}
		return h.renderKeys(c, nil, nil, err)
	}
	var o domain.AccountOverview
	k, secret, err := h.serviceAccounts.CreateKeyWith(ctx, p, c.Param("project"), c.Param("sa"), opts, refresh(&o))
	switch {
	case isInvalid(err):
		return h.renderKeys(c, nil, nil, err)
	case err != nil:
		return err
	}
	return h.renderKeys(c, &o, &views.NewKeyDialog{KeyID: k.ID, Secret: secret, ExpireTime: k.ExpireTime}, nil)
}

// renderKeys answers a key creation or rotation: the keys (with the
// one-time secret dialog, or the error) as a fragment for htmx, the whole
// account page otherwise. Never cached. o is the account as the change
// left it; nil (after a refused change) reads it.
func (h *Handlers) renderKeys(c echo.Context, o *domain.AccountOverview, dialog *views.NewKeyDialog, keyErr error) error {
	var a views.AccountPage
	if o != nil {
		a = h.accountPageOf(*o)
	} else {
		var err error
		if a, err = h.loadAccount(c); err != nil {
			return err
		}
	}
	status := http.StatusOK
	if keyErr != nil {
		a.KeyError, status = domain.ErrorMessage(keyErr), http.StatusUnprocessableEntity
	} else if dialog != nil {
		dialog.Email = a.View.Account.Email
		dialog.Credentials = credentialsDataURL(dialog.KeyID, dialog.Secret, a.View.Account.Email, h.baseURL+"/oauth2/token")
		a.NewKey = dialog
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().Header().Set("Pragma", "no-cache")
	if isFragment(c) {
		return render(c, status, views.AccountKeys(h.fragmentPage(c, a.View.Access), a))
	}
	// A plain form post shows the whole page; the address stays the page's own.
	hxReplaceURLWith(c, accountURL(a.View.Account))
	return render(c, status, views.Account(h.accountPage(c, a), a))
}

// credentialsDataURL is the credentials file of the API contract, as a data: URL for download.
func credentialsDataURL(keyID, secret, email, tokenEndpoint string) string {
	body, _ := json.MarshalIndent(map[string]any{"serviceAccount": map[string]string{
		"keyId": keyID, "secret": secret, "email": email, "algorithm": "HS256", "tokenEndpoint": tokenEndpoint,
	}}, "", "  ")
	return "data:application/json;base64," + base64.StdEncoding.EncodeToString(body)
}

// DeleteKeyPage asks for confirmation before deleting a key (without JavaScript).
func (h *Handlers) DeleteKeyPage(c echo.Context) error {
	a, err := h.loadAccount(c)
	if err != nil {
		return err
	}
	if err := a.View.Access.Authorize(domain.OpKeyDelete); err != nil {
		return err
	}
	if _, err := h.serviceAccounts.GetKey(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa"), c.Param("key")); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.DeleteKey(h.accountPage(c, a), a, c.Param("key")))
}

// DeleteKey deletes a key once confirmed.
func (h *Handlers) DeleteKey(c echo.Context) error {
	if c.FormValue("confirm") != "yes" {
		return h.badInput(c, domain.OpKeyDelete, domain.FieldError("confirm", "Confirm the deletion of the key."))
	}
	var o domain.AccountOverview
	if err := h.serviceAccounts.DeleteKey(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa"), c.Param("key"),
		refreshFragment(c, &o)...); err != nil {
		return err
	}
	return h.afterAccountChange(c, "Key "+c.Param("key")+" deleted.", o, views.AccountKeys)
}
