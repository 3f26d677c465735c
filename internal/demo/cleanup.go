package demo

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
)

// EmailDomain is the domain of every demo user's email: under .invalid
// (RFC 2606), so it can belong to no real account, and no mail to it can
// be delivered.
const EmailDomain = "demo.authstore.invalid"

// ClientPrefix begins the name of every client the demo registers.
const ClientPrefix = "authstore demo: "

// Demo runs before these markers made users "Demo User" <demo+TAG@example.com>
// with a ten-character TAG, and two clients without owner: "Demo Web App"
// (redirect https://app.example.com/callback) and "Demo Native App"
// (redirect com.example.app:/oauth/callback). Find matches them exactly.
var (
	legacyEmail   = regexp.MustCompile(`^demo\+[A-Za-z0-9_-]{10}@example\.com$`)
	legacyClients = map[string]string{
		"Demo Web App":    "https://app.example.com/callback",
		"Demo Native App": "com.example.app:/oauth/callback",
	}
)

// Leftovers are the users and clients earlier demo runs left.
type Leftovers struct {
	Users   []repositories.ImportUser
	Clients []repositories.ImportClient
}

// Empty reports whether there is nothing to remove.
func (l Leftovers) Empty() bool { return len(l.Users) == 0 && len(l.Clients) == 0 }

// IsDemoUser reports whether u is a user a demo run made: an email at
// EmailDomain, or the name and address form of the runs before it.
func IsDemoUser(u repositories.ImportUser) bool {
	email := models.NormalizeEmail(u.Email)
	return strings.HasSuffix(email, "@"+EmailDomain) || (u.Name == "Demo User" && legacyEmail.MatchString(u.Email))
}

// IsDemoClient reports whether c is a client a demo run registered: a name
// beginning with ClientPrefix, or a client of the runs before it (its
// exact name, its one redirect URI, no owner).
func IsDemoClient(c repositories.ImportClient) bool {
	if strings.HasPrefix(c.Name, ClientPrefix) {
		return true
	}
	uri, ok := legacyClients[c.Name]
	return ok && c.UserID == nil && slices.Equal(c.RedirectURIs, []string{uri})
}

// Find lists the users and clients earlier demo runs left (IsDemoUser,
// IsDemoClient), reading the tables through Export.
func Find(ctx context.Context, s *authstore.Store) (Leftovers, error) {
	var l Leftovers
	err := s.Users.Export(ctx, func(u repositories.ImportUser) error {
		if IsDemoUser(u) {
			l.Users = append(l.Users, u)
		}
		return nil
	})
	if err != nil {
		return Leftovers{}, err
	}
	err = s.Clients.Export(ctx, func(c repositories.ImportClient) error {
		if IsDemoClient(c) {
			l.Clients = append(l.Clients, c)
		}
		return nil
	})
	if err != nil {
		return Leftovers{}, err
	}
	return l, nil
}

// Cleanup deletes what Find found: each client (its tokens and codes go
// with it), then each user (their sessions, tokens, codes, personal
// tokens, resets and verifications go with them), each deletion its own
// transaction with its activity row. The activity log keeps the demo's
// rows, their user cleared: it is append-only. A row that is already gone
// is passed over. It returns the ids it deleted.
func Cleanup(ctx context.Context, s *authstore.Store, l Leftovers) (users, clients []models.UUID, err error) {
	users, clients = []models.UUID{}, []models.UUID{}
	for _, c := range l.Clients {
		switch err := s.Clients.Delete(ctx, c.ID); {
		case err == nil:
			clients = append(clients, c.ID)
		case !errors.Is(err, repositories.ErrNotFound):
			return users, clients, err
		}
	}
	for _, u := range l.Users {
		switch err := s.Users.Delete(ctx, u.ID); {
		case err == nil:
			users = append(users, u.ID)
		case !errors.Is(err, repositories.ErrNotFound):
			return users, clients, err
		}
	}
	return users, clients, nil
}
