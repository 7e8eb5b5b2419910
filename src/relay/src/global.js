// Entry of the classic-script build (dist/hub-relay.js): <script src> gets window.HubRelay.
import { HubRelay } from './index.js';

globalThis.HubRelay = HubRelay;
