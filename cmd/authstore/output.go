package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// output is the output format of a command that prints a result: -o
// table (aligned columns, ids in full; the default) or -o json (one stable
// JSON object), with --json kept as a synonym of -o json for the scripts
// that use it.
type output struct {
	format string
	json   bool
}

// addOutput registers -o/--output and --json on cmd, and returns the
// format they set. what names the result in the flags' help ("the
// clients").
func addOutput(cmd *cobra.Command, what string) *output {
	o := &output{format: "table"}
	cmd.Flags().VarP((*outputValue)(o), "output", "o", "output format: table or json")
	cmd.Flags().BoolVar(&o.json, "json", false, "print "+what+" as one JSON object (same as -o json)")
	return o
}

// JSON reports whether the result is printed as JSON.
func (o *output) JSON() bool { return o.json || o.format == "json" }

// outputValue is the -o flag's value: table or json; anything else is bad
// usage.
type outputValue output

func (v *outputValue) String() string { return v.format }
func (v *outputValue) Type() string   { return "table|json" }

func (v *outputValue) Set(s string) error {
	switch s {
	case "table", "json":
		v.format = s
		return nil
	}
	return fmt.Errorf("want table or json, got %q", s)
}

// printTable writes rows under header as aligned columns, each cell on one
// line (see oneLineText).
func printTable(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = oneLineText(c)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}
