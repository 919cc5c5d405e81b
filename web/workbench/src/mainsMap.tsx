// A small SVG map of the pipe mains near the premise (no tile server: the contact centre has no
// internet). Clicking it picks the ticket's location: the click turned back into lon/lat.
import { useEffect, useState } from "preact/hooks";
import type { WorkbenchMainsQuery } from "./generated/graphql";
import { client } from "./client";
import { MAINS } from "./ops";

export interface Point {
  lon: number;
  lat: number;
}

type Segment = NonNullable<WorkbenchMainsQuery["pipeSegmentsNear"]>[number];

const SIZE = 240;
const SPAN = 0.0025; // degrees shown either side of the premise (about 250 m)

export function MainsMap(props: {
  center: Point;
  picked: Point | null;
  onPick: (p: Point) => void;
  label: string;
}) {
  const { center, picked, onPick, label } = props;
  const [segments, setSegments] = useState<Segment[]>([]);
  useEffect(() => {
    let live = true;
    void client
      .query<WorkbenchMainsQuery>({ query: MAINS, variables: { lat: center.lat, lon: center.lon } })
      .then((r) => live && setSegments(r.data?.pipeSegmentsNear ?? []));
    return () => {
      live = false;
    };
  }, [center.lat, center.lon]);
  const x = (lon: number) => ((lon - center.lon + SPAN) / (2 * SPAN)) * SIZE;
  const y = (lat: number) => ((center.lat + SPAN - lat) / (2 * SPAN)) * SIZE;
  const click = (event: MouseEvent) => {
    const box = (event.currentTarget as SVGSVGElement).getBoundingClientRect();
    const px = ((event.clientX - box.left) / box.width) * SIZE;
    const py = ((event.clientY - box.top) / box.height) * SIZE;
    onPick({
      lon: center.lon - SPAN + (px / SIZE) * 2 * SPAN,
      lat: center.lat + SPAN - (py / SIZE) * 2 * SPAN,
    });
  };
  return (
    <svg
      class="mains-map"
      viewBox={`0 0 ${SIZE} ${SIZE}`}
      role="img"
      aria-label={label}
      data-testid="mains-map"
      onClick={click}
    >
      <rect width={SIZE} height={SIZE} class="map-bg" />
      {segments.map((s) => (
        <polyline
          key={s.id}
          class={`main main-${s.status.toLowerCase()}`}
          points={s.path.map((p) => `${x(p.lon).toFixed(1)},${y(p.lat).toFixed(1)}`).join(" ")}
          stroke-width={Math.max(1.5, (s.diameterMm ?? 100) / 80)}
        >
          <title>{`${s.roadName ?? s.id} · ${s.material} DN${s.diameterMm ?? "?"}`}</title>
        </polyline>
      ))}
      <circle cx={x(center.lon)} cy={y(center.lat)} r={5} class="premise" />
      {picked && <circle cx={x(picked.lon)} cy={y(picked.lat)} r={6} class="picked" />}
    </svg>
  );
}
