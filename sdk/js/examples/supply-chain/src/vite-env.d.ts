/// <reference types="vite/client" />
interface ImportMetaEnv {
  readonly VITE_WEFT_RPC?: string;
  readonly VITE_VOTING_ADDRESS?: string;
  readonly VITE_SUPPLY_CHAIN_ADDRESS?: string;
}
