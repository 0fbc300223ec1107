/** Event-type checkboxes from the public contract, grouped by what they are about. */
import { PUBLIC_EVENT_TYPES } from '@quorum/domain';

const GROUPS = (() => {
  const groups = new Map<string, string[]>();
  for (const type of PUBLIC_EVENT_TYPES) {
    const topic = type.slice(0, type.indexOf('.'));
    groups.set(topic, [...(groups.get(topic) ?? []), type]);
  }
  return [...groups];
})();

export function EventTypePicker({
  selected,
  onChange,
  error,
}: {
  selected: readonly string[];
  onChange: (next: string[]) => void;
  error?: string | undefined;
}) {
  const toggle = (type: string, on: boolean) => onChange(on ? [...selected, type] : selected.filter((t) => t !== type));
  return (
    <fieldset className="event-types" aria-describedby={error ? 'event-types-error' : undefined}>
      <legend>Event types</legend>
      <p className="hint">None ticked: every public event type, including ones added later.</p>
      <div className="event-type-groups">
        {GROUPS.map(([topic, types]) => (
          <div key={topic} className="event-type-group">
            {types.map((type) => (
              <label key={type} className="check">
                <input
                  type="checkbox"
                  name="eventTypes"
                  value={type}
                  checked={selected.includes(type)}
                  onChange={(e) => toggle(type, e.currentTarget.checked)}
                />
                <code>{type}</code>
              </label>
            ))}
          </div>
        ))}
      </div>
      {error ? (
        <p id="event-types-error" className="field-error">
          {error}
        </p>
      ) : null}
    </fieldset>
  );
}

/** "every public type" or the list, for a row. */
export function eventTypesSummary(types: readonly string[]): string {
  return types.length === 0 ? 'Every public event type' : types.join(', ');
}
