import { describe, expect, it } from 'vitest';

import { accessFromMe, freezeContent, limitsText, restrictDocument } from './access';

const viewerReply = {
  identity: { workspace: { kind: 'organization', role: 'org:viewer' } },
  permissions: { contents: [], kernels: [] }
};

describe('role of the tab', () => {
  it('reads the role and what it may do from the server, never guessing', () => {
    expect(accessFromMe(viewerReply, 'org_2aDemoEngines')).toEqual({
      role: 'viewer',
      canWrite: false,
      canRun: false
    });
    const member = {
      identity: { workspace: { role: 'org:member' } },
      permissions: { contents: ['write'], kernels: ['execute'] }
    };
    expect(accessFromMe(member, 'org_x')).toEqual({ role: 'member', canWrite: true, canRun: true });
    expect(accessFromMe({}, 'org_x')).toEqual({ role: null, canWrite: false, canRun: false });
    expect(accessFromMe(member, 'personal').role).toBeNull();
  });

  it('says in plain words what the role cannot do', () => {
    expect(limitsText({ role: 'viewer', canWrite: false, canRun: false })).toBe(
      'You can open files here, but not change them or run code.'
    );
  });

  it('opens documents without a kernel and read-only for a viewer', () => {
    const widget = {
      context: {
        model: { readOnly: false },
        sessionContext: { kernelPreference: { name: 'python3', shouldStart: true } }
      }
    };
    restrictDocument(widget, { role: 'viewer', canWrite: false, canRun: false });
    expect(widget.context.model.readOnly).toBe(true);
    expect(widget.context.sessionContext.kernelPreference).toEqual({
      name: 'python3',
      shouldStart: false,
      canStart: false,
      autoStartDefault: false
    });
  });

  it('leaves documents alone for a role that may do everything', () => {
    const widget = {
      context: { model: { readOnly: false }, sessionContext: { kernelPreference: {} } }
    };
    restrictDocument(widget, { role: 'member', canWrite: true, canRun: true });
    expect(widget.context.model.readOnly).toBe(false);
    expect(widget.context.sessionContext.kernelPreference).toEqual({});
  });

  it('freezes every cell of a notebook, including cells that arrive later', () => {
    const slots: Array<() => void> = [];
    const cells = [{ readOnly: false }];
    freezeContent({
      widgets: cells,
      model: { cells: { changed: { connect: (slot: () => void) => slots.push(slot) } } }
    });
    expect(cells[0].readOnly).toBe(true);
    cells.push({ readOnly: false });
    slots.forEach(slot => slot());
    expect(cells[1].readOnly).toBe(true);
    const options: Record<string, unknown> = {};
    freezeContent({ editor: { setOption: (name, value) => (options[name] = value) } });
    expect(options.readOnly).toBe(true);
  });
});
