// The two charts, drawn by uPlot (vendored from npm at install time, never hand-drawn).
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { t } from "./i18n";

const WIDTH = 520;
const HEIGHT = 200;

export class Charts {
  private calls: uPlot;
  private pops: uPlot;
  private popSeries: [number[], (number | null)[], (number | null)[]] = [[], [], []];

  constructor(callsEl: HTMLElement, popEl: HTMLElement) {
    this.calls = new uPlot(
      {
        width: WIDTH,
        height: HEIGHT,
        scales: { x: { time: false } },
        axes: [{ label: "min" }, {}],
        series: [{ label: "min" }, { label: t("perMinute"), stroke: "#1f6feb", fill: "rgba(31,111,235,0.15)", paths: uPlot.paths.bars?.({ size: [0.6] }) }],
        legend: { show: true },
      },
      [[], []],
      callsEl,
    );
    this.pops = new uPlot(
      {
        width: WIDTH,
        height: HEIGHT,
        series: [{}, { label: "p50", stroke: "#2da44e" }, { label: "p99", stroke: "#cf222e" }],
        legend: { show: true },
      },
      [[], [], []],
      popEl,
    );
  }

  update(callsPerMinute: number[], p50: number | null, p99: number | null, at: number): void {
    const minutes = callsPerMinute.map((_, i) => i - callsPerMinute.length + 1);
    this.calls.setData([minutes, callsPerMinute]);
    const [xs, a, b] = this.popSeries;
    xs.push(at / 1000);
    a.push(p50);
    b.push(p99);
    while (xs.length && xs[0] < at / 1000 - 300) {
      xs.shift();
      a.shift();
      b.shift();
    }
    this.pops.setData([xs.slice(), a.slice(), b.slice()]);
  }

  relabel(): void {
    this.calls.setSeries(1, {});
    const label = this.calls.root.querySelector(".u-legend .u-series:nth-child(2) .u-label");
    if (label) label.textContent = t("perMinute");
  }
}
