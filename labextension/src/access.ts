/** What the person's role lets them do in the tab's workspace, as the server says. */

import { ISessionContext } from '@jupyterlab/apputils';

import { PERSONAL } from './workspace';

export interface IWorkspaceAccess {
  /** `viewer` for `org:viewer`; null in a personal workspace. */
  role: string | null;
  canWrite: boolean;
  canRun: boolean;
}

/** The questions `/api/me?permissions=` answers for the role. */
export const ASKED = { contents: ['write'], kernels: ['execute'] };

export interface IMeReply {
  identity?: { workspace?: { kind?: string; role?: string | null } | null };
  permissions?: Record<string, string[] | undefined>;
}

/** What `/api/me` says about the tab's workspace. */
export function accessFromMe(reply: IMeReply, workspace: string): IWorkspaceAccess {
  const role = reply.identity?.workspace?.role ?? null;
  const permissions = reply.permissions ?? {};
  return {
    role: workspace === PERSONAL || !role ? null : role.replace(/^org:/, ''),
    canWrite: (permissions.contents ?? []).includes('write'),
    canRun: (permissions.kernels ?? []).includes('execute')
  };
}

export function limitsText(access: IWorkspaceAccess): string {
  if (!access.canWrite && !access.canRun) {
    return 'You can open files here, but not change them or run code.';
  }
  if (!access.canWrite) {
    return 'You can open files and run code here, but not change files.';
  }
  if (!access.canRun) {
    return 'You can change files here, but not run code.';
  }
  return 'You can open, change and run everything here.';
}

export interface IDocumentLike {
  context?: {
    ready?: Promise<void>;
    model?: { readOnly?: boolean };
    sessionContext?: { kernelPreference: ISessionContext.IKernelPreference };
  };
  content?: {
    /** A notebook's cells. */
    widgets?: ReadonlyArray<{ readOnly: boolean }>;
    model?: { cells?: { changed: { connect: (slot: () => void) => unknown } } } | null;
    /** A text editor's editor. */
    editor?: { setOption: (name: string, value: unknown) => void };
  };
}

/** Every cell (now and later) or the text editor of a document takes no typing. */
export function freezeContent(content: IDocumentLike['content']): void {
  if (!content) {
    return;
  }
  if (content.widgets) {
    const freezeCells = () => content.widgets?.forEach(cell => (cell.readOnly = true));
    freezeCells();
    content.model?.cells?.changed.connect(freezeCells);
  }
  content.editor?.setOption('readOnly', true);
}

/** A document the role cannot run or change: no kernel is started, the model is read-only. */
export function restrictDocument(widget: IDocumentLike, access: IWorkspaceAccess): void {
  const context = widget.context;
  if (!access.canRun && context?.sessionContext) {
    context.sessionContext.kernelPreference = {
      ...context.sessionContext.kernelPreference,
      canStart: false,
      shouldStart: false,
      autoStartDefault: false
    };
  }
  if (!access.canWrite && context?.model) {
    context.model.readOnly = true;
    void context.ready?.then(() => freezeContent(widget.content));
  }
}
