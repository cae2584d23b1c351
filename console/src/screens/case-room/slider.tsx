// The case as it stood: a slider over the versions; moving it shows `?at_version=V`.
import { useState } from "preact/hooks";
import { navigate } from "../../router";

const goToVersion = (caseId: string, version: number | null) =>
  navigate(version === null ? `/cases/${caseId}` : `/cases/${caseId}?at_version=${version}`, true);

export function VersionSlider({ caseId, latest, at }: { caseId: string; latest: number; at: number }) {
  // Where the person moved the knob, while it still names the version shown: a new
  // version (a patch, or the move committed) puts it back on that one. Derived during
  // the render rather than reset by an effect, which rendered the room a second time,
  // a frame later, for every patch.
  const [moved, setMoved] = useState<{ from: number; value: number } | null>(null);
  const value = moved !== null && moved.from === at ? moved.value : at;
  const setValue = (v: number) => setMoved({ from: at, value: v });
  if (latest < 2) return null;
  const commit = (version: number) => goToVersion(caseId, version >= latest ? null : version);
  return (
    <div class="slider">
      <label for="version-slider">Show the case as it stood at version</label>
      <input
        id="version-slider"
        type="range"
        min={1}
        max={latest}
        step={1}
        value={value}
        aria-valuetext={`version ${value} of ${latest}`}
        onInput={(e) => setValue(Number(e.currentTarget.value))}
        onChange={(e) => commit(Number(e.currentTarget.value))}
      />
      <output for="version-slider">
        {value} / {latest}
      </output>
    </div>
  );
}
