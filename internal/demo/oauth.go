package demo

import "context"

// oauth walks the OAuth2 flows.
func (r *runner) oauth(ctx context.Context) error { return nil }
