package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/migrations"
	"github.com/spf13/cobra"
)

// versionInfo is what `authstore version` reports.
type versionInfo struct {
	// Module is the authstore module's version, from the binary's build
	// information: a tag such as v1.2.3 for `go install ...@v1.2.3`,
	// "(devel)" for a build from a checkout.
	Module string `json:"module"`
	// Commit is the VCS revision the binary was built from, when known.
	Commit string `json:"commit,omitempty"`
	// Go is the Go version that built the binary.
	Go string `json:"go"`
	// Schema is the newest migration version the binary carries: the
	// schema version `migrate up` leads to.
	Schema uint `json:"schema"`
	// SchemaName is that migration's name.
	SchemaName string `json:"schema_name"`
}

// buildVersion reads the binary's version information.
func buildVersion() (versionInfo, error) {
	v := versionInfo{Module: "(devel)", Go: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v.Module = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v.Commit = s.Value
			}
		}
	}
	vs, err := migrations.Versions(config.DialectSQLite) // every dialect has the same versions (a test checks it)
	if err != nil {
		return v, err
	}
	if len(vs) > 0 {
		v.Schema, v.SchemaName = vs[len(vs)-1].Version, vs[len(vs)-1].Name
	}
	return v, nil
}

// versionCommand is `authstore version`: the module, Go and schema
// versions of this binary. It opens no database.
func (a *app) versionCommand() *cobra.Command {
	var asJSON *output
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Show the authstore version, the Go version and the newest schema version",
		Long: `version prints the version of the authstore module the binary was built from
(from its build information: a tag for go install ...@vX.Y.Z, "(devel)" for a
build from a checkout, with the commit when known), the Go version that built
it, and the newest schema version it carries: the version migrate up leads
to. It opens no database. With --json it prints one JSON object:
  {"module": "v1.2.3", "go": "go1.26.8", "schema": 4, "schema_name": "normalise_emails"}`,
		Example: `  authstore version
  authstore version --json | jq .schema`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			v, err := buildVersion()
			if err != nil {
				return err
			}
			if asJSON.JSON() {
				return printJSON(a.stdout, v)
			}
			commit := ""
			if v.Commit != "" {
				commit = " (" + v.Commit + ")"
			}
			_, err = fmt.Fprintf(a.stdout, "authstore %s%s\ngo:     %s\nschema: %d (%s)\n", v.Module, commit, v.Go, v.Schema, v.SchemaName)
			return err
		},
	}
	asJSON = addOutput(cmd, "the versions")
	return cmd
}
