/** The Grafana dashboards under deploy/grafana/dashboards, as the tests read them. */
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "../deploy/stack/settings.js";

export const DASHBOARD_DIR = path.join(ROOT, "deploy", "grafana", "dashboards");

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: { refId: string; expr: string; datasource?: { type?: string; uid?: string } }[];
  panels?: DashboardPanel[];
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: DashboardPanel[];
  templating?: { list: { name: string; query?: unknown; datasource?: { uid?: string } }[] };
}

/** Every dashboard file, parsed (a file that is not JSON throws, naming it). */
export function dashboards(): { file: string; dashboard: Dashboard }[] {
  return fs
    .readdirSync(DASHBOARD_DIR)
    .filter((f) => f.endsWith(".json"))
    .map((f) => {
      const file = path.join(DASHBOARD_DIR, f);
      try {
        return { file, dashboard: JSON.parse(fs.readFileSync(file, "utf8")) as Dashboard };
      } catch (err) {
        throw new Error(`${file} is not valid JSON: ${(err as Error).message}`);
      }
    });
}

/** Panels of a dashboard, those inside collapsed rows included. */
export function allPanels(d: Dashboard): DashboardPanel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Every query of every dashboard, with the panel it belongs to. */
export function dashboardQueries(): { dashboard: string; panel: string; expr: string }[] {
  return dashboards().flatMap(({ dashboard }) =>
    allPanels(dashboard).flatMap((p) => (p.targets ?? []).map((t) => ({ dashboard: dashboard.uid, panel: p.title, expr: t.expr }))),
  );
}
