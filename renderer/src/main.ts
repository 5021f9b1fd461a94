import './app.css';

import { mount } from 'svelte';

import App from './App.svelte';
import { selectBackend } from './lib/backend/select-backend.js';
import { createAppState } from './lib/state/app-state.js';
import { Router } from './lib/state/router.svelte.js';

// One backend for the whole app, chosen by what hosts the page (Electron preload or pgkeep ui).
const backend = selectBackend(window);
const app = createAppState(backend);
const router = new Router(window);
app.start();
router.start();

const target = document.getElementById('app');
if (target === null) throw new Error('index.html has no #app element');
mount(App, { target, props: { app, router } });
