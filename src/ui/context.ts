// The setup travels to every field through Svelte context, so panels do not thread it through props.

import { getContext, setContext } from 'svelte';
import type { Setup } from './state/setup.svelte';

const KEY = Symbol('setup');

export const provideSetup = (s: Setup) => setContext(KEY, s);
export const useSetup = () => getContext<Setup>(KEY);

let uid = 0;
/** A unique DOM id for a control (label for=, aria-describedby). */
export const fieldId = (path: string) => `f-${path.replace(/\W/g, '-')}-${uid++}`;
