import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from './src/config/app-config';
import { dataSourceOptions } from './src/database/data-source-options';

/** The DataSource shared by the TypeORM CLI and the app (both build it from the same validated config). */
export default new DataSource(dataSourceOptions(loadConfig()));
