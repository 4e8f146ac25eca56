import type { ComponentChildren } from 'preact';
import { href, onLinkClick } from '../router.ts';

/** An in-app link: a real `<a href>` (open in a new tab, copy the deep link), navigated here on a plain click. */
export function Link(props: { to: string; children: ComponentChildren; class?: string; 'aria-current'?: 'page' | undefined; 'aria-label'?: string }) {
  const { to, children, ...rest } = props;
  return <a href={href(to)} onClick={onLinkClick} {...rest}>{children}</a>;
}
