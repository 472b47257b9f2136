package handlers

import (
	"net/http"

	"studio/domain"
	"studio/views"

	"github.com/labstack/echo/v4"
)

// inviteHeaders keep the page of an invite link out of caches and its
// address (which holds the token) out of Referer headers.
func inviteHeaders(c echo.Context) {
	noStore(c)
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
}

// InvitePage shows the form to accept an invitation: a name and a
// password. A link that is unknown, used or expired gets a friendly page
// saying so, with the domain's message.
func (h *Handlers) InvitePage(c echo.Context) error {
	inviteHeaders(c)
	u, err := h.members.Invitation(c.Request().Context(), c.Param("token"))
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return h.inviteInvalid(c, err)
	}
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.AcceptInvite(h.page(c, "Accept invitation"), h.inviteForm(c, u, "", nil)))
}

func (h *Handlers) inviteForm(c echo.Context, u domain.User, name string, errs map[string]string) views.InviteForm {
	f := views.InviteForm{Token: c.Param("token"), Email: u.Email, Name: name, Errors: errs}
	if cur := currentUser(c); cur != nil {
		f.SignedInAs = cur.Email
	}
	return f
}

func (h *Handlers) inviteInvalid(c echo.Context, err error) error {
	return render(c, http.StatusNotFound, views.InviteInvalid(h.page(c, "Invite link not valid"), domain.ErrorMessage(err)))
}

// AcceptInvite sets the invited user's name and password, accepts every
// pending membership of that user, and signs the user in with a new session.
func (h *Handlers) AcceptInvite(c echo.Context) error {
	inviteHeaders(c)
	ctx, token := c.Request().Context(), c.Param("token")
	name := c.FormValue("name")
	u, err := h.members.AcceptInvitation(ctx, token, name, c.FormValue("password"), c.FormValue("confirm"), c.RealIP())
	switch {
	case domain.ErrorCode(err) == domain.ENOTFOUND:
		return h.inviteInvalid(c, err)
	case isInvalid(err):
		invited, ierr := h.members.Invitation(ctx, token)
		if ierr != nil {
			if domain.ErrorCode(ierr) == domain.ENOTFOUND {
				return h.inviteInvalid(c, ierr)
			}
			return ierr
		}
		return render(c, http.StatusUnprocessableEntity, views.AcceptInvite(h.page(c, "Accept invitation"),
			h.inviteForm(c, invited, name, formErrors(err))))
	case err != nil:
		return err
	}
	if err := h.startSession(c, u.ID); err != nil {
		return err
	}
	Logger(c).Info("invitation accepted", "user_id", u.ID)
	h.setFlash(c, "success", "Welcome to Studio, "+u.DisplayName+"! Your invitation is accepted and you are signed in.")
	return redirect(c, "/")
}
