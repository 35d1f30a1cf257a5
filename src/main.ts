// Entry point: mounts the playground page.

import { mount } from 'svelte';
import App from './App.svelte';
import { Playground } from './ui/state/playground.svelte';
import './ui/global.css';

// made outside any component, so every panel may bind to its state (no single component owns it)
const pg = new Playground();
mount(App, { target: document.getElementById('app')!, props: { pg } });
