package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// summary prints, after the last step, where each agent ended: Connect's status (the
// simulator's truth), Salesforce's (the org's Omni-Channel presence as the console left it),
// the bridge's mirror of both when it differs, the stored session state, and every command the
// bridge still waits on or has yet to deliver.
func (r *scenarioRunner) summary(ctx context.Context) error {
	fmt.Fprintf(r.out, "Summary at %s\n", r.clock.Now().Format(time.TimeOnly))
	for _, name := range sortedKeys(r.agents) {
		a := r.agents[name]
		fmt.Fprintf(r.out, "  %s\n", a.username)
		row := func(kind, format string, args ...any) {
			fmt.Fprintf(r.out, "    %-12s%s\n", kind+":", fmt.Sprintf(format, args...))
		}
		rec, err := r.st.deps.Store.GetAgent(ctx, a.connectID)
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			return fmt.Errorf("summary: agent %s: %w", a.username, err)
		}
		mirror := rec.State

		cs, err := r.st.sims.connect.Agent(a.connectID)
		if err != nil {
			return fmt.Errorf("summary: Connect agent %s: %w", a.username, err)
		}
		connect := cs.Status()
		if !cs.LoggedIn {
			connect += " (logged out)"
		}
		if n := len(cs.Snapshot.Contacts); n > 0 {
			connect += fmt.Sprintf(", on %d contact(s)", n)
		}
		if next := cs.NextStatus(); next != "" {
			connect += ", next status " + next
		}
		if m := mirror.Connect.State; m != "" && m != cs.Status() {
			connect += "; the bridge last saw " + m
		}
		row("Connect", "%s", connect)

		switch {
		case a.salesforceID == "":
			row("Salesforce", "no linked user")
		default:
			sf := a.presenceStatus
			if sf == "" {
				sf = "Offline (no Omni-Channel presence)"
			}
			if a.consoleShut {
				sf += ", console closed"
			}
			if m := mirror.Salesforce.StatusName; m != "" && m != a.presenceStatus && !(m == "Offline" && a.presenceStatus == "") {
				sf += "; the bridge believes " + m
			}
			row("Salesforce", "%s", sf)
		}

		if a.salesforceID != "" {
			srec, err := r.st.deps.Store.GetSession(ctx, a.salesforceID)
			switch {
			case apperr.Is(err, apperr.NotFound) || err == nil && srec.Version == 0:
				row("session", "none recorded")
			case err != nil:
				return fmt.Errorf("summary: session of %s: %w", a.username, err)
			case srec.State.Active:
				row("session", "active (%s at %s)", srec.State.Source, srec.State.At.Format(time.TimeOnly))
			default:
				row("session", "ended (%s at %s)", srec.State.Source, srec.State.At.Format(time.TimeOnly))
			}
		}

		var pending []string
		for _, p := range mirror.Pending {
			pending = append(pending, fmt.Sprintf("command %s (%s) awaits the console's acknowledgement until %s",
				short(p.Command.ID), p.Command.Target, p.Deadline.Format(time.TimeOnly)))
		}
		if d := mirror.Deferred; d != nil {
			pending = append(pending, fmt.Sprintf("command %s (Connect %s) waits as Connect's next status", short(d.CommandID), d.Status))
		}
		for _, o := range rec.Outbox {
			pending = append(pending, fmt.Sprintf("command %s (%s) not delivered yet (%d attempt(s))", short(o.Command.ID), o.Command.Target, o.Attempts))
		}
		if len(pending) == 0 {
			pending = []string{"none"}
		}
		row("pending", "%s", strings.Join(pending, "; "))
	}
	if err := r.caseSummary(ctx); err != nil {
		return err
	}
	return r.callSummary(ctx)
}
