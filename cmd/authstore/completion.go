package main

import (
	"context"
	"strings"

	"github.com/forgeauth/authstore"
	"github.com/spf13/cobra"
)

// completionLimit caps the ids a completion lists: completing must stay
// cheap on a large database.
const completionLimit = 200

// completeClientIDs completes a client id argument from the database (read
// only), each with its name as the description. On any error it offers
// nothing rather than printing.
func (a *app) completeClientIDs(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	_ = a.withExistingStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
		cs, err := s.Clients.List(ctx, completionLimit, 0)
		for _, c := range cs {
			out = append(out, string(c.ID)+"\t"+oneLineText(c.Name))
		}
		return err
	})
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeUserIDs completes a user id argument from the database (read
// only), each with its email as the description.
func (a *app) completeUserIDs(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	_ = a.withExistingStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
		us, err := s.Users.List(ctx, completionLimit, 0)
		for _, u := range us {
			out = append(out, string(u.ID)+"\t"+oneLineText(u.Email))
		}
		return err
	})
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeIDs gives every command of the client and user groups whose
// first argument is an ID (their Use says "ID") the completion of that id,
// unless it has one of its own.
func (a *app) completeIDs(root *cobra.Command) {
	for _, group := range root.Commands() {
		var fn func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective)
		switch group.Name() {
		case "client":
			fn = a.completeClientIDs
		case "user":
			fn = a.completeUserIDs
		default:
			continue
		}
		for _, cmd := range group.Commands() {
			if f := strings.Fields(cmd.Use); len(f) > 1 && strings.HasPrefix(f[1], "ID") && cmd.ValidArgsFunction == nil {
				cmd.ValidArgsFunction = fn
			}
		}
	}
}
