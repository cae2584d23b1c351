// The case as it stood: a slider over the versions; moving it shows `?at_version=V`.
import { useEffect, useState } from "preact/hooks";
import { navigate } from "../../router";

const goToVersion = (caseId: string, version: number | null) =>
  navigate(version === null ? `/cases/${caseId}` : `/cases/${caseId}?at_version=${version}`, true);

export function VersionSlider({ caseId, latest, at }: { caseId: string; latest: number; at: number }) {
  const [value, setValue] = useState(at);
  useEffect(() => setValue(at), [at]);
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
