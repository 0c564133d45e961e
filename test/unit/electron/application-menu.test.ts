import type { MenuItemConstructorOptions } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import { applicationMenuTemplate } from '../../../src-main/electron/application-menu';

function labels(items: MenuItemConstructorOptions[]): string[] {
  return items.map((item) => item.label ?? item.role ?? item.type ?? '?');
}

function submenu(item: MenuItemConstructorOptions | undefined): MenuItemConstructorOptions[] {
  expect(Array.isArray(item?.submenu)).toBe(true);
  return item?.submenu as MenuItemConstructorOptions[];
}

describe('application menu', () => {
  const actions = { openLab: vi.fn(), revealRunsFolder: vi.fn(), showAbout: vi.fn() };

  it('has File, View and Help menus with the desktop actions', () => {
    const menu = applicationMenuTemplate(actions, 'linux');
    expect(labels(menu)).toEqual(['&File', 'editMenu', '&View', 'windowMenu', 'help']);
    const file = submenu(menu[0]);
    expect(labels(file)).toEqual(['Open Lab…', 'Reveal Runs Folder', 'separator', 'quit']);
    expect(labels(submenu(menu[2]))).toEqual(expect.arrayContaining(['reload', 'toggleDevTools']));
    expect(labels(submenu(menu[4]))).toEqual(['About FaultLab']);
  });

  it('wires each item to its action', () => {
    const file = submenu(applicationMenuTemplate(actions, 'linux')[0]);
    const click = (item: MenuItemConstructorOptions | undefined): void =>
      (item?.click as () => void)();
    click(file[0]);
    click(file[1]);
    expect(actions.openLab).toHaveBeenCalledTimes(1);
    expect(actions.revealRunsFolder).toHaveBeenCalledTimes(1);
  });

  it('puts the application menu first on macOS', () => {
    const menu = applicationMenuTemplate(actions, 'darwin');
    expect(labels(menu)[0]).toBe('appMenu');
    expect(labels(submenu(menu[1]))).toContain('close');
  });
});
