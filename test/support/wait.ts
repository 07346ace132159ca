/** The one polling wait lives in scripts/ so that the demo and the fake Bot API use it too; tests import it from here. */
export { waitUntil } from '../../scripts/wait.js';
